/* TC_ASAN_BUILD is 1 in an AddressSanitizer build, whichever compiler:
 * gcc says so with __SANITIZE_ADDRESS__, clang (the libFuzzer builds of
 * ops/fuzz.sh) only through __has_feature. Sandboxes use it to keep the
 * ptrace that LeakSanitizer needs at exit; release builds deny it. */
#ifndef TC_COMMON_ASAN_BUILD_H
#define TC_COMMON_ASAN_BUILD_H

#if defined(__SANITIZE_ADDRESS__)
#define TC_ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TC_ASAN_BUILD 1
#endif
#endif
#ifndef TC_ASAN_BUILD
#define TC_ASAN_BUILD 0
#endif

#endif
