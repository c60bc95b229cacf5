/*
 * Ground truth for loadwise's jumpConsistentHash: the reference function from Lamping & Veach,
 * "A Fast, Minimal Memory, Consistent Hash Algorithm" (2014), figure 1, verbatim, run over
 * deterministic keys and bucket counts. Prints JSON to stdout.
 *
 *   c++ -O2 -o /tmp/jump-reference scripts/jump-hash/reference.cc   (C++: the paper's code uses double(...) casts)
 *   /tmp/jump-reference > test/fixtures/jump-hash-reference.json
 */
#include <stdint.h>
#include <stdio.h>

int32_t JumpConsistentHash(uint64_t key, int32_t num_buckets) {
  int64_t b = -1, j = 0;
  while (j < num_buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = (b + 1) * (double(1LL << 31) / double((key >> 33) + 1));
  }
  return b;
}

/* SplitMix64 (Steele, Lea, Flood 2014): the deterministic key source. */
static uint64_t state = 0x6a09e667f3bcc909ULL;
static uint64_t splitmix64(void) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static int first = 1;
static void emit(uint64_t key, int32_t buckets) {
  printf("%s\n    [\"%016llx\", %d, %d]", first ? "" : ",", (unsigned long long)key, buckets,
         JumpConsistentHash(key, buckets));
  first = 0;
}

int main(void) {
  static const uint64_t edge_keys[] = {0ULL, 1ULL, 2ULL, 0xdeadbeefULL, 0x0ddc0ffeebadf00dULL,
                                       0xffffffffULL, 0x100000000ULL, 0x7fffffffffffffffULL,
                                       0x8000000000000000ULL, 0xffffffffffffffffULL};
  static const int32_t edge_buckets[] = {1, 2, 3, 10, 100, 1000, 65535, 65536, 1 << 20, 2147483647};
  printf("{\n  \"source\": \"scripts/jump-hash/reference.cc (Lamping & Veach 2014, figure 1)\",\n");
  printf("  \"columns\": [\"key (uint64, hex)\", \"num_buckets\", \"JumpConsistentHash\"],\n");
  printf("  \"cases\": [");
  for (unsigned i = 0; i < sizeof edge_keys / sizeof *edge_keys; i++)
    for (unsigned k = 0; k < sizeof edge_buckets / sizeof *edge_buckets; k++) emit(edge_keys[i], edge_buckets[k]);
  for (int i = 0; i < 3000; i++) {
    uint64_t key = splitmix64();
    uint64_t r = splitmix64();
    int32_t buckets;
    switch (i % 3) {
      case 0: buckets = (int32_t)(1 + r % 100); break;
      case 1: buckets = (int32_t)(1 + r % 65536); break;
      default: buckets = (int32_t)(1 + r % 2147483647ULL); break;
    }
    emit(key, buckets);
  }
  printf("\n  ]\n}\n");
  return 0;
}
