/** `sysvshm tour`: the built-in tour of the model. */
export async function tourCommand(): Promise<number> {
  process.stderr.write('sysvshm tour: the model kernel is not built yet\n');
  return 2;
}
