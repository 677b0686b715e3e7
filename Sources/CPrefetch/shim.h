// Swift has no prefetch intrinsic; the compiler builtin through a static
// inline function compiles to one prefetch instruction at the call site.
static inline void tg_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
