/* Lifeline heartbeat SDK: lets an application send its own authenticated
 * heartbeats (application-level health) to a Lifeline receiver.
 *
 *   lifeline_hb* hb;
 *   char err[256];
 *   if (lifeline_hb_open_env(&hb, err, sizeof err) != 0) { log(err); ... }
 *   every lifeline_hb_interval_ms(hb) milliseconds:
 *     lifeline_hb_beat(hb, healthy ? LIFELINE_HB_OK : LIFELINE_HB_DEGRADED);
 *   lifeline_hb_close(hb);
 *
 * The application calls beat at its interval; the SDK starts no thread.
 * Stop calling it and Lifeline declares the application failed after a few
 * intervals (docs/heartbeat-protocol.md).
 *
 * Environment (set by Lifeline for the instances it launches):
 *   LIFELINE_INSTANCE_ID         this instance's id ("i-0abc123", "web-a-17")
 *   LIFELINE_HEARTBEAT_ADDR      receiver, "host:port" or "[v6addr]:port"
 *   LIFELINE_HEARTBEAT_KEY_FILE  path of the key file (mode 0600 or stricter)
 *   LIFELINE_HEARTBEAT_KEY_ID    decimal key id the receiver knows the key by
 *   LIFELINE_HEARTBEAT_INTERVAL  "100ms", "1s" (default 100ms)
 * Key file: the secret as hex (at least 32 hex digits, 64 recommended);
 * blank lines and lines starting with '#' are ignored.
 *
 * Thread-safety: one lifeline_hb per thread, or serialise calls on it.
 * Link with lifeline_sdk (and OpenSSL's libcrypto). */
#ifndef LIFELINE_HEARTBEAT_H_
#define LIFELINE_HEARTBEAT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lifeline_hb_status {
  LIFELINE_HB_OK = 0,       /* working normally */
  LIFELINE_HB_DEGRADED = 1, /* working, but impaired (gray failure) */
  LIFELINE_HB_FAILING = 2   /* cannot do its job: please recover me */
} lifeline_hb_status;

typedef struct lifeline_hb_options {
  const char* instance_id; /* required */
  const char* address;     /* required: "host:port" */
  const char* key_file;    /* required */
  uint32_t key_id;
  uint32_t interval_ms; /* 0: 100 */
} lifeline_hb_options;

typedef struct lifeline_hb lifeline_hb;

/* Returns 0 and sets *out, or -1 with a message in error (if non-null). */
int lifeline_hb_open(const lifeline_hb_options* options, lifeline_hb** out,
                     char* error, size_t error_len);
/* Same, from the LIFELINE_* environment variables above. */
int lifeline_hb_open_env(lifeline_hb** out, char* error, size_t error_len);

/* Sends one heartbeat. Returns 0, or -1 if the datagram could not be sent
 * (see lifeline_hb_last_error); keep beating either way. */
int lifeline_hb_beat(lifeline_hb* hb, lifeline_hb_status status);
/* With load signals for gray-failure detection: error_ratio in [0, 1],
 * latency in milliseconds; pass a negative value to leave one out. */
int lifeline_hb_beat_load(lifeline_hb* hb, lifeline_hb_status status,
                          double error_ratio, double latency_ms);

uint32_t lifeline_hb_interval_ms(const lifeline_hb* hb);
/* The last error message ("" if none). Valid until the next call. */
const char* lifeline_hb_last_error(const lifeline_hb* hb);
/* Frees hb (null is fine). */
void lifeline_hb_close(lifeline_hb* hb);

#ifdef __cplusplus
}
#endif

#endif /* LIFELINE_HEARTBEAT_H_ */
