/* The C SDK header (include/lifeline/heartbeat.h) compiled as C11 with
 * -Wall -Wextra -Wpedantic -Werror and linked to lifeline_sdk: opens,
 * beats and closes against a loopback UDP socket and checks every result
 * code and the datagram that arrives. Exit 0 on success, 1 with a message
 * per failed check otherwise. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lifeline/heartbeat.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static const char kKeyHex[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/* The next datagram into buf (its length), or -1 after a 5 s deadline. */
static long receive(int fd, unsigned char* buf, size_t len) {
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  if (poll(&p, 1, 5000) != 1) return -1;
  return (long)recv(fd, buf, len, 0);
}

/* Big-endian fields of the v1 layout (docs/heartbeat-protocol.md). */
static unsigned long be32(const unsigned char* p) {
  return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) |
         ((unsigned long)p[2] << 8) | (unsigned long)p[3];
}

int main(void) {
  char key_path[] = "/tmp/lifeline_sdk_c_test_XXXXXX";
  int kfd = mkstemp(key_path);
  CHECK(kfd >= 0);
  if (kfd < 0) return 1;
  CHECK(fchmod(kfd, 0600) == 0);
  CHECK(write(kfd, kKeyHex, sizeof kKeyHex - 1) ==
        (ssize_t)(sizeof kKeyHex - 1));
  close(kfd);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(fd, (struct sockaddr*)&a, sizeof a) == 0);
  socklen_t alen = sizeof a;
  CHECK(getsockname(fd, (struct sockaddr*)&a, &alen) == 0);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));

  lifeline_hb_options o;
  memset(&o, 0, sizeof o);
  o.instance_id = "c-app-1";
  o.address = addr;
  o.key_file = key_path;
  o.key_id = 77;
  o.interval_ms = 0; /* the default, 100 */
  lifeline_hb* hb = NULL;
  char err[256] = "";
  CHECK(lifeline_hb_open(&o, &hb, err, sizeof err) == 0);
  if (hb == NULL) {
    fprintf(stderr, "lifeline_hb_open: %s\n", err);
    unlink(key_path);
    return 1;
  }
  CHECK(lifeline_hb_interval_ms(hb) == 100);
  CHECK(strcmp(lifeline_hb_last_error(hb), "") == 0);

  CHECK(lifeline_hb_beat(hb, LIFELINE_HB_OK) == 0);
  CHECK(lifeline_hb_beat_load(hb, LIFELINE_HB_FAILING, 0.5, 20.0) == 0);
  unsigned char buf[2048];
  for (int k = 0; k < 2; ++k) {
    long n = receive(fd, buf, sizeof buf);
    /* header 12 + entry (23 + 7, + 6 with both load fields) + tag 16 */
    CHECK(n == (k == 0 ? 58 : 64));
    if (n < 12 + 23) continue;
    CHECK(memcmp(buf, "LLHB", 4) == 0);
    CHECK(buf[4] == 1);                         /* version */
    CHECK(buf[6] == 0 && buf[7] == 1);          /* one entry */
    CHECK(be32(buf + 8) == 77);                 /* key id */
    CHECK(buf[12] == 7);                        /* id length */
    CHECK(memcmp(buf + 13, "c-app-1", 7) == 0); /* instance id */
    CHECK(be32(buf + 20 + 16) == 100000);       /* interval_us */
    CHECK(buf[20 + 20] == (k == 0 ? LIFELINE_HB_OK : LIFELINE_HB_FAILING));
    CHECK(buf[20 + 21] == (k == 0 ? 0 : 3)); /* load fields present */
  }
  lifeline_hb_close(hb);

  /* Failures are -1 with a message naming the problem. */
  o.key_file = "/nonexistent/lifeline.key";
  hb = NULL;
  CHECK(lifeline_hb_open(&o, &hb, err, sizeof err) == -1);
  CHECK(hb == NULL);
  CHECK(strstr(err, "/nonexistent/lifeline.key") != NULL);
  o.key_file = key_path;
  o.instance_id = "has space";
  CHECK(lifeline_hb_open(&o, &hb, err, sizeof err) == -1);
  CHECK(lifeline_hb_open(NULL, &hb, NULL, 0) == -1);
  unsetenv("LIFELINE_INSTANCE_ID");
  CHECK(lifeline_hb_open_env(&hb, err, sizeof err) == -1);
  CHECK(strstr(err, "LIFELINE_INSTANCE_ID") != NULL);
  CHECK(lifeline_hb_beat(NULL, LIFELINE_HB_OK) == -1);
  CHECK(lifeline_hb_interval_ms(NULL) == 0);
  CHECK(strcmp(lifeline_hb_last_error(NULL), "") == 0);
  lifeline_hb_close(NULL);

  /* From the environment, as Lifeline launches instances. */
  setenv("LIFELINE_INSTANCE_ID", "c-app-2", 1);
  setenv("LIFELINE_HEARTBEAT_ADDR", addr, 1);
  setenv("LIFELINE_HEARTBEAT_KEY_FILE", key_path, 1);
  setenv("LIFELINE_HEARTBEAT_KEY_ID", "78", 1);
  setenv("LIFELINE_HEARTBEAT_INTERVAL", "250ms", 1);
  CHECK(lifeline_hb_open_env(&hb, err, sizeof err) == 0);
  if (hb != NULL) {
    CHECK(lifeline_hb_interval_ms(hb) == 250);
    CHECK(lifeline_hb_beat(hb, LIFELINE_HB_DEGRADED) == 0);
    long n = receive(fd, buf, sizeof buf);
    CHECK(n == 58);
    if (n == 58) {
      CHECK(be32(buf + 8) == 78);
      CHECK(memcmp(buf + 13, "c-app-2", 7) == 0);
      CHECK(buf[20 + 20] == LIFELINE_HB_DEGRADED);
    }
    lifeline_hb_close(hb);
  }

  close(fd);
  unlink(key_path);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("sdk_c_test: ok\n");
  return 0;
}
