// Host driver for the Arduino stub (see Arduino.h).
//   usage: rig [total_ms] < schedule
// The schedule on stdin has one line per input: "<ms> <text>"; at simulated time <ms> the bytes of
// <text> plus '\n' become readable on Serial. Serial output goes to stdout; every digital pin change
// goes to stderr as "PIN <ms> <pin> <value>".
// Simulated sensors: sensor i behind a divider with STUB_LOAD_OHM has Rs = R0 / (1 + 3 g), R0 = 20 k +
// 5 k * i, where the gas level g follows the sample air (pump and valve both on) with a 5 s time constant.
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "Arduino.h"

#ifndef STUB_PUMP_PIN
#define STUB_PUMP_PIN 7
#endif
#ifndef STUB_VALVE_PIN
#define STUB_VALVE_PIN 8
#endif
#ifndef STUB_LOAD_OHM
#define STUB_LOAD_OHM 10000.0
#endif

HardwareSerial Serial;

namespace {

struct Input {
  unsigned long atMs;
  std::string bytes;
};

unsigned long nowMs = 0;
unsigned long lastModelMs = 0;
double gas = 0.0;
uint8_t pins[64] = {0};
std::vector<Input> schedule;
size_t nextInput = 0;
std::string rx;
size_t rxPos = 0;

void deliverInputs() {
  while (nextInput < schedule.size() && schedule[nextInput].atMs <= nowMs) {
    rx += schedule[nextInput].bytes;
    nextInput++;
  }
}

void updateModel() {
  const double tauMs = 5000.0;
  const double target = pins[STUB_PUMP_PIN] && pins[STUB_VALVE_PIN] ? 1.0 : 0.0;
  while (lastModelMs < nowMs) {
    gas += (target - gas) / tauMs;
    lastModelMs++;
  }
}

}  // namespace

void pinMode(uint8_t, uint8_t) {}

void digitalWrite(uint8_t pin, uint8_t value) {
  if (pin >= sizeof pins) return;
  const uint8_t v = value ? 1 : 0;
  if (pins[pin] != v) fprintf(stderr, "PIN %lu %u %u\n", nowMs, static_cast<unsigned>(pin), static_cast<unsigned>(v));
  pins[pin] = v;
}

int digitalRead(uint8_t pin) { return pin < sizeof pins ? pins[pin] : 0; }

int analogRead(uint8_t pin) {
  if (pin < A0 || pin > A7) return 0;
  updateModel();
  const int i = pin - A0;
  const double r0 = 20000.0 + 5000.0 * i;
  const double rs = r0 / (1.0 + 3.0 * gas);
  const double counts = 1023.0 * STUB_LOAD_OHM / (rs + STUB_LOAD_OHM);
  return static_cast<int>(counts + 0.5);
}

unsigned long millis(void) { return nowMs; }
unsigned long micros(void) { return nowMs * 1000UL; }
void delay(unsigned long ms) {
  nowMs += ms;
  deliverInputs();
}

void HardwareSerial::begin(unsigned long) {}
int HardwareSerial::available() { return static_cast<int>(rx.size() - rxPos); }
int HardwareSerial::read() { return rxPos < rx.size() ? static_cast<uint8_t>(rx[rxPos++]) : -1; }
int HardwareSerial::peek() { return rxPos < rx.size() ? static_cast<uint8_t>(rx[rxPos]) : -1; }
size_t HardwareSerial::write(uint8_t byte) { return fwrite(&byte, 1, 1, stdout); }
size_t HardwareSerial::write(const uint8_t *buffer, size_t size) { return fwrite(buffer, 1, size, stdout); }
size_t HardwareSerial::print(const char *text) { return fwrite(text, 1, strlen(text), stdout); }
size_t HardwareSerial::print(long value) { return static_cast<size_t>(printf("%ld", value)); }
size_t HardwareSerial::println(const char *text) { return print(text) + print("\r\n"); }
void HardwareSerial::flush() { fflush(stdout); }

int main(int argc, char **argv) {
  const unsigned long totalMs = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000UL;
  char buf[8192];
  while (fgets(buf, sizeof buf, stdin) != NULL) {
    char *rest = NULL;
    const unsigned long at = strtoul(buf, &rest, 10);
    if (rest == buf) continue;
    if (*rest == ' ') rest++;
    std::string text(rest);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    schedule.push_back(Input{at, text + "\n"});
  }
  std::stable_sort(schedule.begin(), schedule.end(), [](const Input &a, const Input &b) { return a.atMs < b.atMs; });
  setup();
  while (nowMs < totalMs) {
    deliverInputs();
    loop();
    nowMs++;
  }
  fflush(stdout);
  return 0;
}
