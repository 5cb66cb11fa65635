// Differential fuzzing of hugetlb VMAs: a random scenario mixing SysV
// SHM_HUGETLB|SHM_NORESERVE attaches, anonymous MAP_HUGETLB|MAP_NORESERVE
// mappings (0x40000), normal mappings and attaches, with munmap/mprotect/
// mremap/madvise/accesses/shmdt/fork at 2 MiB-granular addresses in a 16 MiB
// region. Usage: node test/mm/tools/scn-fuzz-hugetlb.mjs SEED [OPS] > f.scn,
// then compare 'run' and 'oracle' after masking the inode of
// /anon_hugepage (get_next_ino(), different on every Linux run):
//   sed -E 's/ 00:1([12]) [0-9]+ \/anon_hugepage/ 00:1\1 INO \/anon_hugepage/'
// 80 seeds x 70 ops matched Linux 6.18 (host without huge pages).
let seed = Number(process.argv[2] ?? 1);
const rnd = (n) => { seed = (seed + 0x6D2B79F5) | 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) % n; };
const pick = (a) => a[rnd(a.length)];
const R = 0x40000000, P = 0x1000, H = 0x200000;
const hx = (n) => '0x' + n.toString(16);
const lines = [];
const protos = ['PROT_NONE', 'PROT_READ', 'PROT_READ|PROT_WRITE', 'PROT_READ|PROT_EXEC'];
const addrIn = () => R + rnd(8) * H + pick([0, 0, 0, rnd(4) * P, H - P]);
const lenIn = () => pick([P, H, 2 * H, H + P, (1 + rnd(4)) * P, 3 * H]);
let ids = 0, forked = false;
lines.push('mmap 0x40000000 0x1000 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED -> $r');
lines.push('munmap $r 0x1000');
for (let i = 0; i < Number(process.argv[3] ?? 60); i++) {
  const who = forked && rnd(3) === 0 ? 'c: ' : '';
  const k = rnd(17);
  const a = addrIn(), l = lenIn();
  switch (k) {
    case 0: lines.push(`${who}mmap ${hx(a)} ${hx(l)} ${pick(protos)} ${pick(['MAP_PRIVATE', 'MAP_SHARED'])}|MAP_ANONYMOUS|MAP_FIXED`); break;
    case 1: lines.push(`${who}mmap ${hx(a)} ${hx(l)} ${pick(protos)} ${pick(['MAP_PRIVATE', 'MAP_SHARED'])}|MAP_ANONYMOUS|MAP_NORESERVE|0x40000|${pick(['MAP_FIXED', '0'])}`); break;
    case 2: lines.push(`${who}munmap ${hx(a)} ${hx(l)}`); break;
    case 3: case 4: lines.push(`${who}mprotect ${hx(a)} ${hx(l)} ${pick(protos)}`); break;
    case 5: { const f = pick(['0', 'MREMAP_MAYMOVE', 'MREMAP_MAYMOVE|MREMAP_FIXED', 'MREMAP_MAYMOVE|MREMAP_DONTUNMAP']);
      const nl = f.includes('DONTUNMAP') ? l : lenIn();
      lines.push(`${who}mremap ${hx(a)} ${hx(l)} ${hx(nl)} ${f} ${hx(f === '0' || f === 'MREMAP_MAYMOVE' ? 0 : addrIn())}`); break; }
    case 6: lines.push(`${who}madvise ${hx(a)} ${hx(l)} ${pick(['MADV_DONTNEED', 'MADV_REMOVE', 'MADV_DONTFORK', 'MADV_DOFORK', 'MADV_POPULATE_READ', 'MADV_POPULATE_WRITE', 'MADV_WILLNEED', '16', '17', '24', 'MADV_FREE'])}`); break;
    case 7: lines.push(`${who}fill ${hx(a + rnd(P))} ${hx(1 + rnd(2 * P))} ${rnd(256)}`); break;
    case 8: lines.push(`${who}read ${hx(a + rnd(P))} ${hx(1 + rnd(3 * P))}`); break;
    case 9: case 10: lines.push(`shmget 0 ${hx(pick([P, 5000, H, H + 1, 3 * H]))} IPC_CREAT|SHM_HUGETLB|SHM_NORESERVE|0600 -> $id${ids}`); lines.push(`${who}shmat $id${ids} ${rnd(3) ? hx(a) : '0'} ${pick(['0', 'SHM_RDONLY', 'SHM_REMAP', '0'])}`); lines.push(`shmctl $id${ids} IPC_RMID`); ids++; break;
    case 11: lines.push(`shmget 0 ${hx((1 + rnd(4)) * P)} IPC_CREAT|0600 -> $id${ids}`); lines.push(`${who}shmat $id${ids} ${hx(a)} ${pick(['0', 'SHM_REMAP'])}`); lines.push(`shmctl $id${ids} IPC_RMID`); ids++; break;
    case 12: if (ids) lines.push(`shmctl $id${rnd(ids)} IPC_STAT`); break;
    case 13: lines.push(`${who}shmdt ${hx(a)}`); break;
    case 14: if (!forked) { lines.push('fork c'); forked = true; } break;
    case 15: lines.push(`${who}vmas ${hx(R)} 0x1000000`); break;
    case 16: lines.push(`${who}mremap ${hx(a)} ${hx(l)} ${hx(l)} MREMAP_MAYMOVE|MREMAP_FIXED ${hx(R + rnd(8) * H)}`); break;
  }
}
lines.push('vmas 0x40000000 0x1000000');
if (forked) { lines.push('c: vmas 0x40000000 0x1000000'); lines.push('c: exit'); }
for (let i = 0; i < ids; i++) lines.push(`shmctl $id${i} IPC_STAT`);
console.log(lines.join('\n'));
