/*
 * ENL/1 line protocol for rig firmware; see enl1.h and hardware/PROTOCOL.md.
 * C99, no heap, no printf, no Arduino dependency; builds with avr-gcc, arm-none-eabi-gcc and the host's gcc.
 */
#include "enl1.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------------- */
/* CRC-16/CCITT-FALSE, a nibble at a time: a 32-byte table instead of 512 bytes of a microcontroller's RAM. */

static const uint16_t CRC_NIBBLE[16] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
    0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
};

uint16_t enl1_crc16_update(uint16_t crc, uint8_t byte) {
  crc = (uint16_t)((crc << 4) ^ CRC_NIBBLE[((crc >> 12) ^ (byte >> 4)) & 0x0F]);
  crc = (uint16_t)((crc << 4) ^ CRC_NIBBLE[((crc >> 12) ^ (byte & 0x0F)) & 0x0F]);
  return crc;
}

uint16_t enl1_crc16(const uint8_t *data, size_t len) {
  uint16_t crc = 0xFFFF;
  size_t i;
  for (i = 0; i < len; i++) crc = enl1_crc16_update(crc, data[i]);
  return crc;
}

/* ---------------------------------------------------------------------------------------------------- */
/* A bounded writer: every formatter builds its line through one of these. */

typedef struct {
  char *out;
  size_t cap;
  size_t len;
  int ok;
} writer;

static void w_init(writer *w, char *out, size_t cap) {
  w->out = out;
  w->cap = cap;
  w->len = 0;
  w->ok = out != NULL && cap > 0;
  if (w->ok) out[0] = '\0';
}

static void w_char(writer *w, char c) {
  if (w->ok && w->len + 1 < w->cap) {
    w->out[w->len++] = c;
  } else {
    w->ok = 0;
  }
}

static void w_str(writer *w, const char *s) {
  while (*s) w_char(w, *s++);
}

static const char HEX[] = "0123456789ABCDEF";

/* Closes "$<body>" with "*HHHH\n" and a NUL; returns the line length or 0. */
static size_t w_finish_line(writer *w) {
  uint16_t crc;
  if (!w->ok || w->len > ENL1_MAX_LINE - 5) return 0;
  crc = enl1_crc16((const uint8_t *)w->out + 1, w->len - 1);
  w_char(w, '*');
  w_char(w, HEX[(crc >> 12) & 0xF]);
  w_char(w, HEX[(crc >> 8) & 0xF]);
  w_char(w, HEX[(crc >> 4) & 0xF]);
  w_char(w, HEX[crc & 0xF]);
  w_char(w, '\n');
  if (!w->ok) return 0;
  w->out[w->len] = '\0';
  return w->len;
}

/* Printable ASCII without the protocol's separators: , ; * $ */
static int is_text_char(char c) {
  return c >= 0x20 && c <= 0x7E && c != ',' && c != ';' && c != '*' && c != '$';
}

static int is_text(const char *s, size_t max_len) {
  size_t n = 0;
  if (s == NULL || *s == '\0') return 0;
  for (; *s; s++, n++) {
    if (!is_text_char(*s) || n >= max_len) return 0;
  }
  return 1;
}

/* Channel names: also no spaces and no '='. */
static int is_name(const char *s) {
  if (s == NULL || *s == '\0') return 0;
  for (; *s; s++) {
    if (!is_text_char(*s) || *s == ' ' || *s == '=') return 0;
  }
  return 1;
}

static void w_uint(writer *w, uint64_t v) {
  char digits[21];
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v != 0u);
  while (n > 0) w_char(w, digits[--n]);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Numbers */

static const double P10[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
static const uint32_t U10[7] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u};

/* Significant decimal digits a double holds here: 15 for IEEE double, 7 where double is a 32-bit float (AVR). */
#define ENL1_SIG_DIGITS (DBL_MANT_DIG >= 53 ? 15 : 7)
#define ENL1_MAX_DECIMALS 6

/* Rounds x >= 0 half up. Not floor(x + 0.5): with a 32-bit double, x + 0.5 itself rounds near 2^23. */
static double round_half_up(double x) {
  double f = floor(x);
  return x - f >= 0.5 ? f + 1.0 : f;
}

/* |a| with `decimals` decimals, trailing zeros trimmed. a must be < 1e15. */
static void w_fixed(writer *w, double a, int decimals) {
  uint64_t scaled = (uint64_t)round_half_up(a * P10[decimals]);
  uint64_t ip = scaled / U10[decimals];
  uint32_t fp = (uint32_t)(scaled % U10[decimals]);
  w_uint(w, ip);
  if (fp != 0u) {
    char frac[ENL1_MAX_DECIMALS];
    int n = decimals;
    int i;
    for (i = decimals - 1; i >= 0; i--) {
      frac[i] = (char)('0' + (int)(fp % 10u));
      fp /= 10u;
    }
    while (n > 0 && frac[n - 1] == '0') n--;
    w_char(w, '.');
    for (i = 0; i < n; i++) w_char(w, frac[i]);
  }
}

static void w_number(writer *w, double v) {
  double a;
  int digits = 1;
  int decimals;
  if (isnan(v) || isinf(v)) {
    w_str(w, "nan");
    return;
  }
  a = v < 0 ? -v : v;
  if (a >= 1e15) {
    /* Exponent form: one digit, up to 6 decimals (5 on a 32-bit double), "e+NN". */
    const int mdec = ENL1_SIG_DIGITS - 2 < ENL1_MAX_DECIMALS ? ENL1_SIG_DIGITS - 2 : ENL1_MAX_DECIMALS;
    int e = (int)floor(log10(a));
    double m = a / pow(10.0, (double)e);
    if (m >= 10.0) {
      m /= 10.0;
      e++;
    }
    if (round_half_up(m * P10[mdec]) >= 10.0 * P10[mdec]) {
      m /= 10.0;
      e++;
    }
    if (v < 0) w_char(w, '-');
    w_fixed(w, m, mdec);
    w_str(w, "e+");
    w_uint(w, (uint64_t)e);
    return;
  }
  while (digits < 15 && a >= P10[digits]) digits++;
  decimals = ENL1_SIG_DIGITS - digits;
  if (decimals > ENL1_MAX_DECIMALS) decimals = ENL1_MAX_DECIMALS;
  if (decimals < 0) decimals = 0;
  /* No "-0": a negative value that rounds to zero prints as "0". */
  if (v < 0 && round_half_up(a * P10[decimals]) >= 1.0) w_char(w, '-');
  w_fixed(w, a, decimals);
}

size_t enl1_format_number(char *out, size_t cap, double value) {
  writer w;
  w_init(&w, out, cap);
  w_number(&w, value);
  if (!w.ok) return 0;
  w.out[w.len] = '\0';
  return w.len;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Lines */

size_t enl1_format_info(char *out, size_t cap, const char *rig, const char *fw, double rate_hz, const char *unit,
                        const char *const *channels, size_t n_channels) {
  writer w;
  size_t i;
  if (!is_text(rig, ENL1_MAX_LINE) || !is_text(fw, ENL1_MAX_LINE) || !(rate_hz > 0) || isinf(rate_hz)) return 0;
  if (unit == NULL || (strcmp(unit, "ohm") != 0 && strcmp(unit, "adc") != 0)) return 0;
  if (channels == NULL || n_channels == 0) return 0;
  w_init(&w, out, cap);
  w_str(&w, "$ENI,proto=ENL/1,rig=");
  w_str(&w, rig);
  w_str(&w, ",fw=");
  w_str(&w, fw);
  w_str(&w, ",rate_hz=");
  w_number(&w, rate_hz);
  w_str(&w, ",unit=");
  w_str(&w, unit);
  w_str(&w, ",channels=");
  for (i = 0; i < n_channels; i++) {
    if (!is_name(channels[i])) return 0;
    if (i > 0) w_char(&w, ';');
    w_str(&w, channels[i]);
  }
  return w_finish_line(&w);
}

size_t enl1_format_frame(char *out, size_t cap, uint32_t seq, uint32_t t_ms, char phase, const double *values,
                         size_t n_values) {
  writer w;
  size_t i;
  if (phase != 'I' && phase != 'B' && phase != 'E' && phase != 'R') return 0;
  if (values == NULL && n_values > 0) return 0;
  w_init(&w, out, cap);
  w_str(&w, "$ENF,");
  w_uint(&w, seq);
  w_char(&w, ',');
  w_uint(&w, t_ms);
  w_char(&w, ',');
  w_char(&w, phase);
  for (i = 0; i < n_values; i++) {
    w_char(&w, ',');
    w_number(&w, values[i]);
  }
  return w_finish_line(&w);
}

size_t enl1_format_ack(char *out, size_t cap, const char *command, int ok, const char *detail) {
  writer w;
  if (!is_text(command, 32) || (detail != NULL && !is_text(detail, 256))) return 0;
  w_init(&w, out, cap);
  w_str(&w, "$ENA,");
  w_str(&w, command);
  w_str(&w, ok ? ",OK" : ",ERR");
  if (detail != NULL) {
    w_char(&w, ',');
    w_str(&w, detail);
  }
  return w_finish_line(&w);
}

size_t enl1_format_command(char *out, size_t cap, enl1_command_kind kind, const char *text) {
  writer w;
  w_init(&w, out, cap);
  switch (kind) {
    case ENL1_CMD_START:
      if (!is_text(text, ENL1_MAX_SAMPLE_ID)) return 0;
      w_str(&w, "$ENC,START,");
      w_str(&w, text);
      break;
    case ENL1_CMD_END:
      if (!is_text(text, ENL1_MAX_END_REASON)) return 0;
      w_str(&w, "$ENC,END,");
      w_str(&w, text);
      break;
    case ENL1_CMD_STOP:
      w_str(&w, "$ENC,STOP");
      break;
    case ENL1_CMD_INFO:
      w_str(&w, "$ENC,INFO");
      break;
    default:
      return 0;
  }
  return w_finish_line(&w);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Command parsing */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1; /* lower case is not allowed */
}

enl1_status enl1_parse_command(const char *line, size_t len, enl1_command *cmd) {
  size_t s;
  size_t star;
  size_t i;
  size_t word_len;
  const char *body;
  size_t body_len;
  uint16_t want = 0;

  cmd->kind = ENL1_CMD_NONE;
  cmd->sample_id[0] = '\0';
  cmd->reason[0] = '\0';
  cmd->word[0] = '?';
  cmd->word[1] = '\0';

  if (len > 0 && line[len - 1] == '\n') len--;
  if (len > 0 && line[len - 1] == '\r') len--;
  if (len > ENL1_MAX_LINE) return ENL1_ERR_TOO_LONG;

  for (s = 0; s < len && line[s] != '$'; s++) {
  }
  if (s == len) return ENL1_ERR_MALFORMED;
  for (star = len; star > s + 1 && line[star - 1] != '*'; star--) {
  }
  if (star <= s + 1) return ENL1_ERR_MALFORMED;
  star--; /* index of the last '*' */
  if (len - star != 5) return ENL1_ERR_MALFORMED;
  for (i = star + 1; i < len; i++) {
    int h = hex_value(line[i]);
    if (h < 0) return ENL1_ERR_MALFORMED;
    want = (uint16_t)((want << 4) | (uint16_t)h);
  }
  if (enl1_crc16((const uint8_t *)line + s + 1, star - s - 1) != want) return ENL1_ERR_CHECKSUM;

  body = line + s + 1;
  body_len = star - s - 1;
  if (body_len < 4 || body[0] != 'E' || body[1] != 'N' || body[3] != ',') return ENL1_ERR_MALFORMED;
  if (body[2] == 'F' || body[2] == 'I' || body[2] == 'A') return ENL1_ERR_NOT_COMMAND;
  if (body[2] != 'C') return ENL1_ERR_MALFORMED;

  body += 4;
  body_len -= 4;
  for (word_len = 0; word_len < body_len && body[word_len] != ','; word_len++) {
    if (!is_text_char(body[word_len])) return ENL1_ERR_MALFORMED;
  }
  if (word_len == 0 || word_len >= sizeof cmd->word) return ENL1_ERR_MALFORMED;
  memcpy(cmd->word, body, word_len);
  cmd->word[word_len] = '\0';

  if (strcmp(cmd->word, "START") == 0) {
    const char *id = body + word_len + 1;
    size_t id_len;
    if (word_len == body_len) return ENL1_ERR_MALFORMED; /* no sample id */
    id_len = body_len - word_len - 1;
    if (id_len == 0 || id_len > ENL1_MAX_SAMPLE_ID) return ENL1_ERR_MALFORMED;
    for (i = 0; i < id_len; i++) {
      if (!is_text_char(id[i])) return ENL1_ERR_MALFORMED;
    }
    memcpy(cmd->sample_id, id, id_len);
    cmd->sample_id[id_len] = '\0';
    cmd->kind = ENL1_CMD_START;
    return ENL1_OK;
  }
  if (strcmp(cmd->word, "END") == 0) {
    const char *reason = body + word_len + 1;
    size_t reason_len;
    if (word_len == body_len) return ENL1_ERR_MALFORMED; /* no reason */
    reason_len = body_len - word_len - 1;
    if (reason_len == 0 || reason_len > ENL1_MAX_END_REASON) return ENL1_ERR_MALFORMED;
    for (i = 0; i < reason_len; i++) {
      if (!is_text_char(reason[i])) return ENL1_ERR_MALFORMED;
    }
    memcpy(cmd->reason, reason, reason_len);
    cmd->reason[reason_len] = '\0';
    cmd->kind = ENL1_CMD_END;
    return ENL1_OK;
  }
  if (strcmp(cmd->word, "STOP") == 0 || strcmp(cmd->word, "INFO") == 0) {
    if (word_len != body_len) return ENL1_ERR_MALFORMED; /* no arguments */
    cmd->kind = cmd->word[0] == 'S' ? ENL1_CMD_STOP : ENL1_CMD_INFO;
    return ENL1_OK;
  }
  return ENL1_ERR_UNKNOWN_COMMAND;
}

const char *enl1_status_text(enl1_status status) {
  switch (status) {
    case ENL1_OK:
      return "ok";
    case ENL1_ERR_MALFORMED:
      return "malformed";
    case ENL1_ERR_CHECKSUM:
      return "bad-checksum";
    case ENL1_ERR_TOO_LONG:
      return "too-long";
    case ENL1_ERR_UNKNOWN_COMMAND:
      return "unknown-command";
    case ENL1_ERR_NOT_COMMAND:
      return "not-command";
    default:
      return "malformed";
  }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Line reader */

void enl1_reader_init(enl1_reader *reader) {
  reader->len = 0;
  reader->overflow = 0;
  reader->started = 0;
  reader->done = 0;
  reader->buf[0] = '\0';
}

int enl1_reader_feed(enl1_reader *reader, uint8_t byte) {
  if (reader->done) enl1_reader_init(reader);
  if (byte == '\n') {
    if (!reader->started) {
      reader->len = 0; /* noise without '$', or an empty line */
      return 0;
    }
    if (reader->len > 0 && reader->buf[reader->len - 1] == '\r') reader->len--;
    reader->buf[reader->len] = '\0';
    reader->done = 1;
    return 1;
  }
  if (!reader->started) {
    if (byte != '$') return 0;
    reader->started = 1;
  }
  if (reader->len + 1 < sizeof reader->buf) {
    reader->buf[reader->len++] = (char)byte;
  } else {
    reader->overflow = 1;
  }
  return 0;
}
