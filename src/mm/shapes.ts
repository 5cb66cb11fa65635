/**
 * Hidden classes that outlive their instances.
 *
 * V8 gives every object a hidden class (a "map") and reaches the map of a
 * class instance by transitions from the constructor's initial map, one per
 * field as the constructor adds it. Those transitions are weak: when the
 * last instance of a class dies, a full garbage collection frees its maps.
 * Then
 * - every optimised function that checked one of them is thrown away
 *   (`node --trace-deopt`: "marking dependent code ... reason: weak objects"),
 * - the next instance builds a fresh map whose fields start over from their
 *   first stores (`--trace-generalization`: "... (uninitialized field)"),
 *   each generalisation throwing away the code compiled since ("reason: code
 *   dependencies").
 *
 * A process whose segments come and go, with nothing else of the kind alive
 * in between (bench "touch": one 64 MiB segment at a time, garbage
 * collected after each), so had its whole fault path deoptimised and
 * recompiled for every segment (1-2 µs per first touch instead of ~0.25 µs).
 *
 * pinShape() keeps one instance (an exemplar, built by the class's own
 * constructor so it gets the same map) alive for good. Exemplars must not
 * later take values that change a field's representation (a small integer
 * field becoming a fraction), or their map would be deprecated and stop
 * holding the current one: test/mm/shapes.test.ts checks each pinned class
 * against an instance that went through a real life.
 */
const pinned: object[] = [];

/** Keeps `exemplar` (and so its class's hidden class) alive for the life of the process. */
export function pinShape<T extends object>(exemplar: T): T {
  pinned.push(exemplar);
  return exemplar;
}

/** The pinned exemplars (tests). */
export function pinnedShapes(): readonly object[] {
  return pinned;
}
