/*
 * Drives enl1.c from stdin, one instruction a line, and prints what it formats or parses, one result a line
 * (formatted lines end in '\n' already; "ERROR" when a formatter refuses). Used by
 * tests/hardware/firmware.test.ts to check the C code against the shared ENL/1 vectors.
 *
 *   X                                       CRC of "123456789" as 4 hex digits
 *   N <number>                              enl1_format_number (strtod reads the number; "nan" is NaN)
 *   I <rig> <fw> <rate_hz> <unit> <a;b;c>   enl1_format_info
 *   F <seq> <t_ms> <phase> <v1> ... <vN>    enl1_format_frame
 *   A <command> <OK|ERR> [<detail>]         enl1_format_ack
 *   C START <id> | C STOP | C INFO | C END <reason>   enl1_format_command
 *   P <line>                                enl1_parse_command: "<status> <kind> <word> <sample_id or reason>"
 *   R <text with \n written as |>           enl1_reader_feed on each byte: one "LINE <overflow> <text>" per line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enl1.h"

#define MAX_FIELDS 1100

static char out[ENL1_MAX_LINE + 16];
static char input[ENL1_MAX_LINE * 2];

static void print_result(size_t n) {
  if (n == 0) {
    fputs("ERROR\n", stdout);
  } else {
    fwrite(out, 1, n, stdout);
  }
}

/* Splits s in place on spaces into at most max fields. */
static size_t split(char *s, char **fields, size_t max) {
  size_t n = 0;
  char *tok = strtok(s, " ");
  while (tok != NULL && n < max) {
    fields[n++] = tok;
    tok = strtok(NULL, " ");
  }
  return n;
}

static const char *kind_name(enl1_command_kind k) {
  switch (k) {
    case ENL1_CMD_START:
      return "START";
    case ENL1_CMD_STOP:
      return "STOP";
    case ENL1_CMD_INFO:
      return "INFO";
    case ENL1_CMD_END:
      return "END";
    default:
      return "NONE";
  }
}

int main(void) {
  static char *fields[MAX_FIELDS];
  static double values[MAX_FIELDS];
  static const char *channels[MAX_FIELDS];
  while (fgets(input, sizeof input, stdin) != NULL) {
    size_t len = strlen(input);
    char op;
    char *arg;
    while (len > 0 && (input[len - 1] == '\n' || input[len - 1] == '\r')) input[--len] = '\0';
    if (len == 0) continue;
    op = input[0];
    arg = len > 2 ? input + 2 : input + len;
    switch (op) {
      case 'X': {
        printf("%04X\n", (unsigned)enl1_crc16((const uint8_t *)"123456789", 9));
        break;
      }
      case 'N': {
        size_t n = enl1_format_number(out, sizeof out, strtod(arg, NULL));
        if (n == 0) {
          fputs("ERROR\n", stdout);
        } else {
          printf("%s\n", out);
        }
        break;
      }
      case 'I': {
        size_t n = split(arg, fields, MAX_FIELDS);
        size_t k = 0;
        char *name;
        if (n != 5) {
          fputs("ERROR\n", stdout);
          break;
        }
        for (name = strtok(fields[4], ";"); name != NULL && k < MAX_FIELDS; name = strtok(NULL, ";")) channels[k++] = name;
        print_result(enl1_format_info(out, sizeof out, fields[0], fields[1], strtod(fields[2], NULL), fields[3], channels, k));
        break;
      }
      case 'F': {
        size_t n = split(arg, fields, MAX_FIELDS);
        size_t i;
        if (n < 3) {
          fputs("ERROR\n", stdout);
          break;
        }
        for (i = 3; i < n; i++) values[i - 3] = strtod(fields[i], NULL);
        print_result(enl1_format_frame(out, sizeof out, (uint32_t)strtoul(fields[0], NULL, 10),
                                       (uint32_t)strtoul(fields[1], NULL, 10), fields[2][0], values, n - 3));
        break;
      }
      case 'A': {
        size_t n = split(arg, fields, 3);
        if (n < 2) {
          fputs("ERROR\n", stdout);
          break;
        }
        print_result(enl1_format_ack(out, sizeof out, fields[0], strcmp(fields[1], "OK") == 0, n > 2 ? fields[2] : NULL));
        break;
      }
      case 'C': {
        size_t n = split(arg, fields, 2);
        enl1_command_kind kind = ENL1_CMD_NONE;
        if (n >= 1 && strcmp(fields[0], "START") == 0) kind = ENL1_CMD_START;
        if (n >= 1 && strcmp(fields[0], "STOP") == 0) kind = ENL1_CMD_STOP;
        if (n >= 1 && strcmp(fields[0], "INFO") == 0) kind = ENL1_CMD_INFO;
        if (n >= 1 && strcmp(fields[0], "END") == 0) kind = ENL1_CMD_END;
        print_result(enl1_format_command(out, sizeof out, kind, n > 1 ? fields[1] : NULL));
        break;
      }
      case 'P': {
        enl1_command cmd;
        enl1_status st = enl1_parse_command(arg, strlen(arg), &cmd);
        const char *text = cmd.kind == ENL1_CMD_END ? cmd.reason : cmd.sample_id;
        printf("%s %s %s %s\n", enl1_status_text(st), kind_name(cmd.kind), cmd.word, text[0] ? text : "-");
        break;
      }
      case 'R': {
        enl1_reader reader;
        const char *p;
        enl1_reader_init(&reader);
        for (p = arg; *p; p++) {
          if (enl1_reader_feed(&reader, (uint8_t)(*p == '|' ? '\n' : *p))) printf("LINE %d %s\n", reader.overflow, reader.buf);
        }
        break;
      }
      default:
        fputs("ERROR\n", stdout);
    }
  }
  return 0;
}
