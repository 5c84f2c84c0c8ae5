/* deltakern — status codes and error messages.
 *
 * Every fallible call returns a dk_status: 0 is success, negative values are
 * failures. The failing call also leaves a one-line, human-readable message
 * (with file, node, op or option as context) in a thread-local buffer that
 * dk_last_error() returns. The library never exits or aborts on bad input. */
#ifndef DELTAKERN_STATUS_H
#define DELTAKERN_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dk_status {
    DK_OK = 0,
    DK_ERR_INVALID = -1,     /* bad argument or usage (unknown flag, bad option) */
    DK_ERR_IO = -2,          /* file missing, unreadable or unwritable */
    DK_ERR_FORMAT = -3,      /* file is not what it claims (corrupt protobuf, bad image) */
    DK_ERR_UNSUPPORTED = -4, /* valid input this build cannot handle (op, attribute, dtype) */
    DK_ERR_SHAPE = -5,       /* inconsistent tensor shapes */
    DK_ERR_NOMEM = -6,       /* allocation failed */
    DK_ERR_UNAVAILABLE = -7, /* backend or device not usable on this machine */
    DK_ERR_INTERNAL = -8     /* a bug in deltakern or a vendor library failure */
} dk_status;

/* Short constant name of a status ("unsupported", "shape", ...). */
const char *dk_status_name(dk_status s);

/* Message left by the last failing call on this thread ("" if none). The
 * pointer stays valid until the next failing call on this thread. */
const char *dk_last_error(void);

/* True for statuses that mean "the user's input or usage is wrong" (CLI exit
 * code 2) rather than an internal failure (exit code 1). */
int dk_status_is_user_error(dk_status s);

#ifdef __cplusplus
}
#endif
#endif
