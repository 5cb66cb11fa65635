/**
 * The named constants of the scenario language (scenario spec section 6),
 * taken from the ABI so the language and the kernel share one set of numbers.
 */
import * as C from '../abi/constants.js';

const named: Record<string, bigint> = {
  PAGE: BigInt(C.PAGE_SIZE),
  SHMLBA: BigInt(C.SHMLBA),
  IPC_PRIVATE: BigInt(C.IPC_PRIVATE),
  IPC_CREAT: BigInt(C.IPC_CREAT),
  IPC_EXCL: BigInt(C.IPC_EXCL),
  IPC_NOWAIT: BigInt(C.IPC_NOWAIT),
  SHM_HUGETLB: BigInt(C.SHM_HUGETLB),
  SHM_NORESERVE: BigInt(C.SHM_NORESERVE),
  SHM_RDONLY: BigInt(C.SHM_RDONLY),
  SHM_RND: BigInt(C.SHM_RND),
  SHM_REMAP: BigInt(C.SHM_REMAP),
  SHM_EXEC: BigInt(C.SHM_EXEC),
  IPC_RMID: BigInt(C.IPC_RMID),
  IPC_SET: BigInt(C.IPC_SET),
  IPC_STAT: BigInt(C.IPC_STAT),
  IPC_INFO: BigInt(C.IPC_INFO),
  SHM_LOCK: BigInt(C.SHM_LOCK),
  SHM_UNLOCK: BigInt(C.SHM_UNLOCK),
  SHM_STAT: BigInt(C.SHM_STAT),
  SHM_INFO: BigInt(C.SHM_INFO),
  SHM_STAT_ANY: BigInt(C.SHM_STAT_ANY),
  IPC_64: BigInt(C.IPC_64),
  PROT_NONE: BigInt(C.PROT_NONE),
  PROT_READ: BigInt(C.PROT_READ),
  PROT_WRITE: BigInt(C.PROT_WRITE),
  PROT_EXEC: BigInt(C.PROT_EXEC),
  MAP_SHARED: BigInt(C.MAP_SHARED),
  MAP_PRIVATE: BigInt(C.MAP_PRIVATE),
  MAP_FIXED: BigInt(C.MAP_FIXED),
  MAP_ANONYMOUS: BigInt(C.MAP_ANONYMOUS),
  MAP_NORESERVE: BigInt(C.MAP_NORESERVE),
  MAP_POPULATE: BigInt(C.MAP_POPULATE),
  MAP_FIXED_NOREPLACE: BigInt(C.MAP_FIXED_NOREPLACE),
  MREMAP_MAYMOVE: BigInt(C.MREMAP_MAYMOVE),
  MREMAP_FIXED: BigInt(C.MREMAP_FIXED),
  MREMAP_DONTUNMAP: BigInt(C.MREMAP_DONTUNMAP),
  MADV_NORMAL: BigInt(C.MADV_NORMAL),
  MADV_WILLNEED: BigInt(C.MADV_WILLNEED),
  MADV_DONTNEED: BigInt(C.MADV_DONTNEED),
  MADV_REMOVE: BigInt(C.MADV_REMOVE),
  MADV_DONTFORK: BigInt(C.MADV_DONTFORK),
  MADV_DOFORK: BigInt(C.MADV_DOFORK),
  MADV_FREE: BigInt(C.MADV_FREE),
  MADV_POPULATE_READ: BigInt(C.MADV_POPULATE_READ),
  MADV_POPULATE_WRITE: BigInt(C.MADV_POPULATE_WRITE),
  INF: C.RLIM_INFINITY,
};
for (const [name, bit] of Object.entries(C.Capability)) named[name] = BigInt(bit);

/** The value of a named constant, or undefined if the name is not one. */
export function constantValue(name: string): bigint | undefined {
  return Object.prototype.hasOwnProperty.call(named, name) ? named[name] : undefined;
}

/** True when the name is a capability constant (allowed in `caps=`). */
export function isCapabilityName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(C.Capability, name);
}
