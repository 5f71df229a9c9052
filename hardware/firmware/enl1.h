/*
 * ENL/1 line protocol for rig firmware: CRC-16, line formatters and a command parser.
 * C99, no Arduino dependency, no heap, no printf (AVR's printf cannot print doubles).
 * The protocol is described in hardware/PROTOCOL.md.
 *
 * Formatters write one complete line, "$<body>*HHHH\n", plus a terminating NUL into out[cap] and return
 * the length of the line without the NUL; they return 0 when the line does not fit or an argument is
 * not allowed on the wire (a ',', ';', '*' or '$' in a text field, an unknown phase, ...).
 */
#ifndef ENL1_H
#define ENL1_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest valid line, without '\n' and an optional '\r' before it. */
#define ENL1_MAX_LINE 4096
/** Longest sample id a START command may carry. */
#define ENL1_MAX_SAMPLE_ID 64
/** Longest reason an END command may carry. */
#define ENL1_MAX_END_REASON 32
/** Room a rig needs for one incoming command line: "$ENC,START," + id + "*HHHH" and some slack. */
#define ENL1_READER_CAP 96

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor ("123456789" -> 0x29B1). */
uint16_t enl1_crc16(const uint8_t *data, size_t len);
/** One more byte into a running CRC (start from 0xFFFF). */
uint16_t enl1_crc16_update(uint16_t crc, uint8_t byte);

/**
 * A reading as text, NUL-terminated (returns its length, 0 if it does not fit): NaN and infinities as
 * "nan"; otherwise fixed point with up to 6 decimals, trailing zeros trimmed ("48211.5", "40210"), within
 * the digits a double holds (15 significant on a 64-bit double, 7 on AVR's 32-bit one); magnitudes of
 * 1e15 and more in exponent form ("1.5e+15"). Resolution is 1e-6: smaller magnitudes print as "0".
 */
size_t enl1_format_number(char *out, size_t cap, double value);

/** "$ENI,proto=ENL/1,rig=..,fw=..,rate_hz=..,unit=..,channels=a;b;..*HHHH\n". unit is "ohm" or "adc". */
size_t enl1_format_info(char *out, size_t cap, const char *rig, const char *fw, double rate_hz, const char *unit,
                        const char *const *channels, size_t n_channels);

/** "$ENF,<seq>,<t_ms>,<phase>,<v1>,...*HHHH\n"; phase is 'I', 'B', 'E' or 'R'; NaN values as "nan". */
size_t enl1_format_frame(char *out, size_t cap, uint32_t seq, uint32_t t_ms, char phase, const double *values,
                         size_t n_values);

/** "$ENA,<command>,OK|ERR[,<detail>]*HHHH\n"; detail may be NULL. */
size_t enl1_format_ack(char *out, size_t cap, const char *command, int ok, const char *detail);

typedef enum { ENL1_CMD_NONE = 0, ENL1_CMD_START = 1, ENL1_CMD_STOP = 2, ENL1_CMD_INFO = 3, ENL1_CMD_END = 4 } enl1_command_kind;

/**
 * Host side: "$ENC,START,<id>*HHHH\n", "$ENC,STOP*HHHH\n", "$ENC,INFO*HHHH\n", "$ENC,END,<reason>*HHHH\n".
 * `text` is the sample id for START (1 to 64 characters), the reason for END (1 to 32), unused otherwise.
 */
size_t enl1_format_command(char *out, size_t cap, enl1_command_kind kind, const char *text);

typedef enum {
  ENL1_OK = 0,
  /** No '$', no or bad checksum field, wrong fields. */
  ENL1_ERR_MALFORMED = -1,
  ENL1_ERR_CHECKSUM = -2,
  ENL1_ERR_TOO_LONG = -3,
  /** A valid $ENC line with a command word this code does not know (kept in `word`). */
  ENL1_ERR_UNKNOWN_COMMAND = -4,
  /** A valid line that is not a command (an echo of $ENF, $ENI, $ENA): ignore it. */
  ENL1_ERR_NOT_COMMAND = -5
} enl1_status;

typedef struct {
  enl1_command_kind kind;
  /** NUL-terminated; set for START. */
  char sample_id[ENL1_MAX_SAMPLE_ID + 1];
  /** NUL-terminated; set for END (why the host ends the cycle: "clear", "suspicious", ...). */
  char reason[ENL1_MAX_END_REASON + 1];
  /** The command word as received (for the ack), "?" when the line could not be read. */
  char word[16];
} enl1_command;

/**
 * Parses one command line (a trailing "\r\n" or "\n" is allowed; bytes before the first '$' are
 * ignored), checking length, checksum and fields in that order, as the host does.
 */
enl1_status enl1_parse_command(const char *line, size_t len, enl1_command *cmd);

/** The protocol's name for a status: "ok", "malformed", "bad-checksum", "too-long", "unknown-command", "not-command". */
const char *enl1_status_text(enl1_status status);

/**
 * Assembles lines from a byte stream in a fixed buffer. Bytes before the first '$' of a line are dropped;
 * a line with no '$' at all is dropped silently (power-up noise).
 */
typedef struct {
  char buf[ENL1_READER_CAP];
  size_t len;
  /** Set when the line was longer than the buffer (the line is then not a valid command). */
  unsigned char overflow;
  unsigned char started;
  unsigned char done;
} enl1_reader;

void enl1_reader_init(enl1_reader *reader);
/**
 * Feeds one byte. Returns 1 when a line is complete: `buf` then holds it NUL-terminated without "\r\n",
 * `len` its length, `overflow` whether bytes were lost; valid until the next call.
 */
int enl1_reader_feed(enl1_reader *reader, uint8_t byte);

#ifdef __cplusplus
}
#endif

#endif /* ENL1_H */
