// libFuzzer's entry point for programs with their own main (compiler-rt FuzzerInterface.h).
// Only declared here: the symbol comes from libFuzzer when `semid-fuzz` is built with
// `-sanitize=fuzzer` (make fuzz), and is not referenced otherwise.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
