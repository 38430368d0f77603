// compat_shim.cc: the three functions that Jazzer.js 4.0.0's prebuilt native
// fuzzer (built against glibc 2.38 and GCC 13) needs and Debian 12's glibc
// 2.36 / libstdc++ 12 lack; run.sh builds it into build/npm-jazzer/ and
// preloads it (see glibc_compat.py for why and what else is needed).
#include <cstdlib>
#include <ios>

extern "C" {
// C23's variants only add "0b" prefixes, which the fuzzer's option parsing never sees.
long __isoc23_strtol(const char *s, char **end, int base) { return std::strtol(s, end, base); }
unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return std::strtoul(s, end, base); }
}

namespace std {
// GCC 13 initialises cout/cerr in libstdc++ itself and has objects call this
// hook; libstdc++ 12 needs an ios_base::Init object instead: one here, made
// when the shim loads, before the fuzzer module can print.
static ios_base::Init compat_ios_init;
void ios_base_library_init() {}
}
