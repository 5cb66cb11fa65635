/** Test helper: the VMAs a test made, without the [stack] every process starts with. */
import { VM_GROWSDOWN, type Vma } from '../../src/mm/vma.js';

export function userVmas(p: { mm: { vmas(): Vma[] } }): Vma[] {
  return p.mm.vmas().filter((v) => !(v.flags & VM_GROWSDOWN));
}
