/*
 * original_dst: the destination a connection had before an iptables
 * REDIRECT (nat table) rewrote it, read from the kernel's conntrack entry
 * with getsockopt(SO_ORIGINAL_DST) (IPv4) or getsockopt(IP6T_SO_ORIGINAL_DST)
 * (IPv6). One function, no state, no allocation beyond the result:
 *
 *   get(fd: number, ipv4: boolean) -> "<port> <address>" | -errno
 *
 * A negative number is the errno of the failed call (ENOENT: conntrack has
 * no entry for this socket, e.g. the connection was never NATed). The
 * TypeScript side (sidecar/transparent/original-destination.ts) decides what
 * each means; nothing here throws.
 *
 * Node-API is a stable C ABI (https://nodejs.org/api/n-api.html), so the few
 * functions and types used are declared below instead of requiring Node's
 * headers at build time. Build: native/original-dst/build.sh.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Linux uapi: linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

/* --- Node-API declarations (opaque handles; napi_status is a C enum, 0 = napi_ok) --- */
typedef struct napi_env_s *napi_env;
typedef struct napi_value_s *napi_value;
typedef struct napi_callback_info_s *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
#define NAPI_OK 0
#define API_VERSION 8

extern napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
extern napi_status napi_get_value_int32(napi_env env, napi_value value, int32_t *result);
extern napi_status napi_get_value_bool(napi_env env, napi_value value, _Bool *result);
extern napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result);
extern napi_status napi_create_string_latin1(napi_env env, const char *str, size_t length, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);
extern napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data, napi_value *result);

#define EXPORT __attribute__((visibility("default")))

static napi_value errno_value(napi_env env, int err) {
  napi_value v = NULL;
  napi_create_int32(env, -(err > 0 ? err : EIO), &v);
  return v;
}

/*
 * The result as one latin1 string, "<port> <address>": one engine call.
 * Building a { address, port, family } object here costs three
 * napi_set_named_property calls, measured at over ten times the system
 * call itself; the TypeScript side builds the object instead.
 */
static napi_value destination(napi_env env, const char *address, uint16_t port) {
  char text[8 + INET6_ADDRSTRLEN];
  napi_value v;
  int n = snprintf(text, sizeof text, "%u %s", (unsigned)port, address);
  if (n < 0 || (size_t)n >= sizeof text) return NULL;
  if (napi_create_string_latin1(env, text, (size_t)n, &v) != NAPI_OK) return NULL;
  return v;
}

/*
 * `ipv4` says which conntrack table holds the connection: the caller knows
 * it from the socket's local address (Node caches getsockname), which saves
 * a system call here. An AF_INET6 socket carrying IPv4 (a v4-mapped peer on
 * a dual-stack listener) is tracked by IPv4 conntrack; the kernel hands
 * SOL_IP options of an AF_INET6 TCP socket to the IPv4 code, so `ipv4` is
 * true for it too.
 */
static napi_value get(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  _Bool v4 = 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != NAPI_OK || argc < 2) return errno_value(env, EINVAL);
  if (napi_get_value_int32(env, argv[0], &fd) != NAPI_OK || fd < 0) return errno_value(env, EBADF);
  if (napi_get_value_bool(env, argv[1], &v4) != NAPI_OK) return errno_value(env, EINVAL);

  char text[INET6_ADDRSTRLEN];
  napi_value result;
  if (v4) {
    struct sockaddr_in dst;
    socklen_t dlen = sizeof dst;
    memset(&dst, 0, sizeof dst);
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &dlen) != 0) return errno_value(env, errno);
    if (inet_ntop(AF_INET, &dst.sin_addr, text, sizeof text) == NULL) return errno_value(env, errno);
    result = destination(env, text, ntohs(dst.sin_port));
  } else {
    struct sockaddr_in6 dst;
    socklen_t dlen = sizeof dst;
    memset(&dst, 0, sizeof dst);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &dlen) != 0) return errno_value(env, errno);
    if (inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof text) == NULL) return errno_value(env, errno);
    result = destination(env, text, ntohs(dst.sin6_port));
  }
  return result != NULL ? result : errno_value(env, ENOMEM);
}

/* The Node-API version this addon needs (Node looks the symbol up at load). */
EXPORT int32_t node_api_module_get_api_version_v1(void) { return API_VERSION; }

/* Module entry point Node-API calls with the exports object. */
EXPORT napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "get", 3, get, NULL, &fn) != NAPI_OK) return NULL;
  if (napi_set_named_property(env, exports, "get", fn) != NAPI_OK) return NULL;
  return exports;
}
