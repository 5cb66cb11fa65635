/**
 * A script error: the script itself is wrong (syntax, unknown verb or process,
 * unbound variable, ...). It stops the interpreter with exit status 2 and is
 * reported as `FILE:LINE: message`, never as a result line.
 */
export class ScriptError extends Error {
  constructor(
    readonly line: number,
    message: string,
    public file = '<script>',
  ) {
    super(message);
    this.name = 'ScriptError';
  }

  /** The one-line report: `FILE:LINE: message`. */
  report(): string {
    return `${this.file}:${this.line}: ${this.message}`;
  }
}

/** A command the model cannot perform: reported as one clear line, exit status 2. */
export class UnsupportedError extends Error {
  constructor(message: string, public line?: number) {
    super(message);
    this.name = 'UnsupportedError';
  }
}
