// Just enough of the Arduino API for enose_rig.ino to compile and run on the host with g++:
//   g++ -std=c++11 -I host-stub -I .. -x c++ enose_rig.ino -x none host-stub/arduino_stub.cpp enl1.o
// The driver in arduino_stub.cpp runs setup() then loop() on a simulated clock (1 ms per loop() call),
// feeds stdin to Serial at the simulated times it names, prints Serial output on stdout and pin changes
// on stderr, and simulates MOX sensors behind the dividers that react to the pump and the valve.
#ifndef ENOSE_HOST_STUB_ARDUINO_H
#define ENOSE_HOST_STUB_ARDUINO_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HIGH 1
#define LOW 0
#define INPUT 0
#define OUTPUT 1
#define INPUT_PULLUP 2

enum { A0 = 14, A1, A2, A3, A4, A5, A6, A7 };

typedef uint8_t byte;
typedef bool boolean;

void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t value);
int digitalRead(uint8_t pin);
int analogRead(uint8_t pin);
unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);

class HardwareSerial {
 public:
  void begin(unsigned long baud);
  int available();
  int read();
  int peek();
  size_t write(uint8_t byte);
  size_t write(const uint8_t *buffer, size_t size);
  size_t print(const char *text);
  size_t print(long value);
  size_t println(const char *text);
  void flush();
  explicit operator bool() const { return true; }
};

extern HardwareSerial Serial;

// Provided by the sketch.
void setup(void);
void loop(void);

#endif
