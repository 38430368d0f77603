/*
 * lab_id — random identifiers for the lab: request ids and revision ids
 * (UUID v4, as Lambda's) and hex ids (environments, log streams, trace ids),
 * from the kernel's getrandom(2). Without randomness the lab aborts: guessable
 * ids would let one caller predict another's.
 */
#ifndef COLDSEC_LAB_ID_H
#define COLDSEC_LAB_ID_H

#include <stddef.h>

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" plus NUL. */
#define LAB_ID_UUID_SIZE 37
/* At most this many random bytes in one hex id. */
#define LAB_ID_HEX_MAX_BYTES 32

/* Writes a UUID v4 into out (at least LAB_ID_UUID_SIZE bytes). */
void lab_id_uuid(char *out);
/* Writes 2 * nbytes lower-case hex digits and a NUL into out;
 * nbytes is capped at LAB_ID_HEX_MAX_BYTES. */
void lab_id_hex(char *out, size_t nbytes);

#endif
