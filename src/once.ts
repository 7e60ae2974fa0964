/**
 * `make`'s result from its first call on. A module loaded at first use goes through this: `import()`
 * resolves its specifier again on every call (about 10 µs under node, 0.4 ms under tsx). A rejected
 * promise is kept too: a package that failed to load stays failed until the process restarts.
 */
export function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
