// Differential fuzzing of the memory manager: generates a random scenario (.scn)
// mixing mmap/munmap/mprotect/mremap/madvise/accesses/shmat/shmdt/fork on two
// small regions. Usage: node test/mm/tools/scn-fuzz-gen.mjs SEED [OPS] > f.scn, then
// compare 'node bin/sysvshm.js run f.scn' with 'node bin/sysvshm.js oracle f.scn'
// (diff-model-oracle.sh does both). 420 seeds x 90 ops matched Linux 6.18.
// Random scenario generator for differential testing model vs oracle.
let seed = Number(process.argv[2] ?? 1);
const rnd = (n) => { seed = (seed + 0x6D2B79F5) | 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) % n; };
const pick = (a) => a[rnd(a.length)];
const R = 0x40000000, R2 = 0x50000000, P = 0x1000;
const hx = (n) => '0x' + n.toString(16);
const lines = [];
const protos = ['PROT_NONE', 'PROT_READ', 'PROT_READ|PROT_WRITE', 'PROT_WRITE', 'PROT_READ|PROT_EXEC', 'PROT_READ|PROT_WRITE|PROT_EXEC'];
const addrIn = () => (rnd(4) === 0 ? R2 : R) + rnd(24) * P;
let ids = 0, procs = ['p0'], forked = false;
lines.push('mmap 0x40000000 0x1000 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED -> $r');
lines.push('munmap $r 0x1000');
for (let i = 0; i < Number(process.argv[3] ?? 40); i++) {
  const who = procs.length > 1 && rnd(3) === 0 ? 'c: ' : '';
  const k = rnd(16);
  const a = addrIn(), n = 1 + rnd(6);
  switch (k) {
    case 0: case 1: lines.push(`${who}mmap ${hx(a)} ${hx(n * P)} ${pick(protos)} ${pick(['MAP_PRIVATE', 'MAP_SHARED', 'MAP_PRIVATE|MAP_NORESERVE'])}|MAP_ANONYMOUS|MAP_FIXED`); break;
    case 2: lines.push(`${who}munmap ${hx(a)} ${hx(n * P)}`); break;
    case 3: case 4: lines.push(`${who}mprotect ${hx(a)} ${hx(n * P)} ${pick(protos)}`); break;
    case 5: { const f = pick(['0', 'MREMAP_MAYMOVE', 'MREMAP_MAYMOVE|MREMAP_FIXED', 'MREMAP_MAYMOVE|MREMAP_DONTUNMAP', 'MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP']);
      const nl = f.includes('DONTUNMAP') ? n : 1 + rnd(6);
      lines.push(`${who}mremap ${hx(a)} ${hx(n * P)} ${hx(nl * P)} ${f} ${hx(addrIn())}`); break; }
    case 6: lines.push(`${who}madvise ${hx(a)} ${hx(n * P)} ${pick(['MADV_DONTNEED', 'MADV_REMOVE', 'MADV_DONTFORK', 'MADV_DOFORK', 'MADV_POPULATE_READ', 'MADV_POPULATE_WRITE', 'MADV_WILLNEED', 'MADV_NORMAL', '102', '103', '18', '19', 'MADV_FREE'])}`); break;
    case 7: case 8: lines.push(`${who}fill ${hx(a + rnd(P))} ${hx(1 + rnd(2 * P))} ${rnd(256)}`); break;
    case 9: lines.push(`${who}read ${hx(a + rnd(P))} ${hx(1 + rnd(3 * P))}`); break;
    case 10: lines.push(`shmget 0 ${hx(n * P - rnd(100))} IPC_CREAT|0600 -> $id${ids}`); lines.push(`shmat $id${ids} ${rnd(2) ? hx(a) : '0'} ${pick(['0', 'SHM_RDONLY', 'SHM_REMAP', '0'])}`); lines.push(`shmctl $id${ids} IPC_RMID`); ids++; break;
    case 11: if (ids) lines.push(`shmctl $id${rnd(ids)} IPC_STAT`); break;
    case 12: lines.push(`${who}shmdt ${hx(a)}`); break;
    case 13: if (!forked) { lines.push('fork c'); procs.push('c'); forked = true; } break;
    case 14: lines.push(`${who}vmas ${hx(R)} 0x20000`); break;
    case 15: lines.push(`${who}mmap 0 ${hx(n * P)} ${pick(protos)} ${pick(['MAP_PRIVATE', 'MAP_SHARED'])}|MAP_ANONYMOUS`); break;
  }
}
lines.push('vmas 0x40000000 0x20000');
lines.push('vmas 0x50000000 0x20000');
if (forked) { lines.push('c: vmas 0x40000000 0x20000'); lines.push('c: vmas 0x50000000 0x20000'); lines.push('c: exit'); }
for (let i = 0; i < ids; i++) lines.push(`shmctl $id${i} IPC_STAT`);
console.log(lines.join('\n'));
