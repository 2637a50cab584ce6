/*
 * mlockall(2) for ganeti-noded, as a small Node-API addon: Node has no API for it.
 * Upstream's noded locks itself in RAM so that it keeps answering (a powercycle above
 * all) on a node whose disk or memory is in trouble.
 *
 * lockAll() returns {locked, onFault, error}:
 *  - It locks only where that cannot make the daemon fail later: with MCL_FUTURE every
 *    later allocation must be locked too, so under a finite RLIMIT_MEMLOCK (without
 *    CAP_IPC_LOCK, and a limit it cannot raise) the heap's growth would fail one day; it
 *    then does not lock and says why.
 *  - MCL_ONFAULT (Linux 4.4+) locks pages as they are touched: the JavaScript engine
 *    reserves far more address space than it uses, which plain MCL_CURRENT|MCL_FUTURE
 *    would fault in and pin (measured: 800 MB resident instead of 100 MB).
 *  - V8's code range is unlocked again: V8 gives its code pages back with
 *    madvise(MADV_DONTNEED), which the kernel refuses on locked memory, and V8 treats
 *    that refusal as fatal (seen: a crash in a background GC thread, and at exit). That
 *    one call is V8's C++ API (v8::Isolate::GetCodeRange), hence C++ here; the addon is
 *    built against the headers of the very Node that the executable embeds. Isolates
 *    created later (worker threads) would get locked code ranges: noded starts none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <node_api.h>
#include <v8.h>

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

/* CAP_IPC_LOCK lifts RLIMIT_MEMLOCK altogether (root usually has it). */
static bool has_cap_ipc_lock() {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK)) != 0;
}

/* nullptr when locked memory is unlimited (or made so), else why not. */
static const char *memlock_refusal(char *why, size_t size) {
  if (has_cap_ipc_lock()) return nullptr;
  struct rlimit limit;
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) {
    snprintf(why, size, "getrlimit(RLIMIT_MEMLOCK): %s", strerror(errno));
    return why;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return nullptr;
  struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0) return nullptr;
  snprintf(why, size, "the locked-memory limit (RLIMIT_MEMLOCK) is %llu KiB and cannot be raised (%s)",
           static_cast<unsigned long long>(limit.rlim_cur / 1024), strerror(errno));
  return why;
}

static napi_value result(napi_env env, bool locked, bool on_fault, const char *error) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_get_boolean(env, locked, &v);
  napi_set_named_property(env, obj, "locked", v);
  napi_get_boolean(env, on_fault, &v);
  napi_set_named_property(env, obj, "onFault", v);
  if (error) napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &v);
  else napi_get_null(env, &v);
  napi_set_named_property(env, obj, "error", v);
  return obj;
}

static napi_value lock_all(napi_env env, napi_callback_info) {
  char why[256];
  if (const char *refusal = memlock_refusal(why, sizeof why)) return result(env, false, false, refusal);
  bool on_fault = true;
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
    if (errno != EINVAL || mlockall(MCL_CURRENT | MCL_FUTURE) != 0) return result(env, false, false, strerror(errno));
    on_fault = false;
  }
  void *code_start = nullptr;
  size_t code_size = 0;
  v8::Isolate::GetCurrent()->GetCodeRange(&code_start, &code_size);
  if (code_size > 0 && munlock(code_start, code_size) != 0) {
    snprintf(why, sizeof why, "cannot leave V8's code range unlocked: %s", strerror(errno));
    munlockall();
    return result(env, false, false, why);
  }
  return result(env, true, on_fault, nullptr);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "lockAll", NAPI_AUTO_LENGTH, lock_all, nullptr, &fn) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "lockAll", fn) != napi_ok) return nullptr;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
