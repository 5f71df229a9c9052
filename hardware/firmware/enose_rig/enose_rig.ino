// Reference ENL/1 rig: 4 to 8 MOX gas sensors on analog pins through voltage dividers, a pump and a
// three-way valve, driven through the baseline / exposure / recovery cycle on START. END (the host's verdict
// is in) cuts the exposure and ends the recovery as soon as the sensors are back at their baseline.
// Protocol: hardware/PROTOCOL.md. Wiring and flashing: hardware/README.md.
// Copy ../enl1.h and ../enl1.c next to this file before building it in the Arduino IDE.
//
// Wiring (each sensor, ratiometric: the divider and the ADC share Vcc, so supply drift cancels):
//
//      Vcc (5 V) ---[ sensor Rs ]---+---[ RL ]--- GND        heater pins: Vcc and GND as the datasheet says
//                                   |
//                                 A0..A7  (Vout = Vcc * RL / (Rs + RL), so Rs = RL * (Vcc - Vout) / Vout)
//
// Pump and valve: each through a logic-level N-MOSFET (e.g. IRLZ44N) on the low side, gate via 220 ohm
// from PUMP_PIN / VALVE_PIN with 100 k to GND, a flyback diode (1N4007) across the coil or motor, and their
// own 12 V supply sharing GND with the board. Valve de-energised = clean air (through activated carbon),
// energised = sample air.

#include <Arduino.h>

#include "enl1.h"

// ---- Configuration: edit these for your rig --------------------------------------------------------

static const char RIG_ID[] = "enose-ref";
static const char FW_VERSION[] = "1.0.0";

// One entry per sensor, 4 to 8 of them (A6 and A7 exist on a Nano or Pro Mini, not on an Uno).
static const uint8_t SENSOR_PINS[] = {A0, A1, A2, A3};
static const char *const CHANNELS[] = {"tgs2600", "tgs2602", "tgs2610", "tgs2620"};
// Load resistor RL of each divider, in ohm: pick it near the sensor's Rs in clean air.
static const double LOAD_OHM[] = {10000.0, 10000.0, 10000.0, 10000.0};

static const uint8_t N_SENSORS = sizeof(SENSOR_PINS) / sizeof(SENSOR_PINS[0]);
static_assert(N_SENSORS >= 4 && N_SENSORS <= 8, "the reference rig has 4 to 8 sensors");
static_assert(sizeof(CHANNELS) / sizeof(CHANNELS[0]) == N_SENSORS, "one channel name per sensor pin");
static_assert(sizeof(LOAD_OHM) / sizeof(LOAD_OHM[0]) == N_SENSORS, "one load resistor per sensor pin");

static const int ADC_MAX = 1023;      // 10-bit ADC; 4095 on a 12-bit board
static const uint8_t OVERSAMPLE = 4;  // readings averaged per frame

static const uint8_t PUMP_PIN = 7;
static const uint8_t VALVE_PIN = 8;

static const uint32_t FRAME_PERIOD_MS = 100;  // 10 Hz
static const uint32_t BASELINE_MS = 30000UL;
static const uint32_t EXPOSURE_MS = 60000UL;
static const uint32_t RECOVERY_MS = 60000UL;
static const unsigned long BAUD = 115200UL;

// After END: the recovery lasts until every sensor has been within CLEAN_TOLERANCE of its baseline mean for
// CLEAN_HOLD_MS, at least END_MIN_RECOVERY_MS and at most RECOVERY_MS (hardware/PROTOCOL.md, "Ending a cycle").
static const uint32_t END_MIN_RECOVERY_MS = 10000UL;
static const uint32_t CLEAN_HOLD_MS = 3000UL;
static const double CLEAN_TOLERANCE = 0.05;
// A START within CARRY_BASELINE_MS of a clean recovery's end runs a baseline of SHORT_BASELINE_MS instead of
// BASELINE_MS. 0 (the default) keeps every baseline full: the shipped models were trained on 30 s baselines.
#ifndef SHORT_BASELINE_MS
#define SHORT_BASELINE_MS 0UL
#endif
static const uint32_t CARRY_BASELINE_MS = 30000UL;

// ---- State -------------------------------------------------------------------------------------------

static char phase = 'I';
static uint32_t phaseStartMs = 0;
static uint32_t seq = 0;
static uint32_t nextFrameMs = 0;
static char sampleId[ENL1_MAX_SAMPLE_ID + 1] = "";
static uint32_t baselineMs = BASELINE_MS;  // this cycle's
static bool cycleEnded = false;            // END taken in this cycle
static double baseSum[8];                  // per sensor, over the B frames: the clean-air reference
static uint16_t baseCount[8];
static bool cleanRun = false;              // every sensor within tolerance since cleanSinceMs
static uint32_t cleanSinceMs = 0;
static bool lastRecoveryClean = false;     // the last cycle's recovery ended clean, at idleSinceMs
static uint32_t idleSinceMs = 0;
static enl1_reader reader;
// 8 values of at most 22 characters plus the header and checksum fit in 256 bytes.
static char line[256];

static void sendLine(size_t n) {
  if (n > 0) Serial.write(reinterpret_cast<const uint8_t *>(line), n);
}

static void sendInfo() {
  sendLine(enl1_format_info(line, sizeof line, RIG_ID, FW_VERSION, 1000.0 / FRAME_PERIOD_MS, "ohm", CHANNELS, N_SENSORS));
}

static void sendAck(const char *command, bool ok, const char *detail) {
  sendLine(enl1_format_ack(line, sizeof line, command, ok ? 1 : 0, detail));
}

// Pump on in every phase but idle; valve to sample air only during exposure.
static void enterPhase(char next, uint32_t atMs) {
  phase = next;
  phaseStartMs = atMs;
  digitalWrite(PUMP_PIN, next == 'I' ? LOW : HIGH);
  digitalWrite(VALVE_PIN, next == 'E' ? HIGH : LOW);
}

static bool recoveryClean(uint32_t now) { return cleanRun && now - cleanSinceMs >= CLEAN_HOLD_MS; }

static void endRecovery(uint32_t atMs, bool clean) {
  lastRecoveryClean = clean;
  idleSinceMs = atMs;
  enterPhase('I', atMs);
}

// Phase boundaries are kept exact (from the START time), whatever the loop's jitter.
static void advancePhase(uint32_t now) {
  const uint32_t in = now - phaseStartMs;
  if (phase == 'B' && in >= baselineMs) {
    enterPhase('E', phaseStartMs + baselineMs);
  } else if (phase == 'E' && in >= EXPOSURE_MS) {
    enterPhase('R', phaseStartMs + EXPOSURE_MS);
  } else if (phase == 'R' && cycleEnded && in >= END_MIN_RECOVERY_MS && recoveryClean(now)) {
    endRecovery(now, true);
  } else if (phase == 'R' && in >= RECOVERY_MS) {
    endRecovery(phaseStartMs + RECOVERY_MS, recoveryClean(now));
  }
}

// The clean-air reference and the clean check, one frame at a time (no sensor reading of its own).
static void observe(uint32_t now, const double *values) {
  bool clean = phase == 'R';
  for (uint8_t i = 0; i < N_SENSORS; i++) {
    const double v = values[i];
    if (phase == 'B' && !isnan(v)) {
      baseSum[i] += v;
      baseCount[i]++;
    }
    if (!clean) continue;
    const double r0 = baseCount[i] > 0 ? baseSum[i] / baseCount[i] : NAN;
    // A failed reading or no baseline cannot show a clean sensor: the recovery then runs its full length.
    if (isnan(v) || !(r0 > 0) || fabs(v - r0) > CLEAN_TOLERANCE * r0) clean = false;
  }
  if (clean && !cleanRun) cleanSinceMs = now;
  cleanRun = clean;
}

// Rs = RL * (Vcc - Vout) / Vout with Vout = Vcc * counts / ADC_MAX, i.e. RL * (ADC_MAX - counts) / counts.
// A reading at either rail (open or shorted sensor) is not a resistance: nan.
static double readResistance(uint8_t i) {
  long sum = 0;
  for (uint8_t k = 0; k < OVERSAMPLE; k++) sum += analogRead(SENSOR_PINS[i]);
  const double counts = static_cast<double>(sum) / OVERSAMPLE;
  if (counts < 0.5 || counts > ADC_MAX - 0.5) return NAN;
  return LOAD_OHM[i] * (ADC_MAX - counts) / counts;
}

static void sendFrame(uint32_t now) {
  double values[8];
  for (uint8_t i = 0; i < N_SENSORS; i++) values[i] = readResistance(i);
  sendLine(enl1_format_frame(line, sizeof line, seq, now, phase, values, N_SENSORS));
  observe(now, values);
  seq++;  // uint32: wraps from 4294967295 to 0 as the protocol says
}

static void handleLine() {
  enl1_command cmd;
  const enl1_status status = reader.overflow ? ENL1_ERR_MALFORMED : enl1_parse_command(reader.buf, reader.len, &cmd);
  if (status == ENL1_ERR_NOT_COMMAND) return;  // an echo of our own lines: not for us
  if (status == ENL1_ERR_UNKNOWN_COMMAND) {
    sendAck(cmd.word, false, "unknown-command");
    return;
  }
  if (status != ENL1_OK) {
    sendAck("?", false, enl1_status_text(status));
    return;
  }
  switch (cmd.kind) {
    case ENL1_CMD_START:
      if (phase != 'I') {
        sendAck("START", false, "busy");
        return;
      }
      memcpy(sampleId, cmd.sample_id, sizeof sampleId);
      {
        const uint32_t now = millis();
        const bool carry = SHORT_BASELINE_MS > 0 && lastRecoveryClean && now - idleSinceMs <= CARRY_BASELINE_MS;
        baselineMs = carry ? SHORT_BASELINE_MS : BASELINE_MS;
        cycleEnded = false;
        cleanRun = false;
        for (uint8_t i = 0; i < N_SENSORS; i++) {
          baseSum[i] = 0;
          baseCount[i] = 0;
        }
        enterPhase('B', now);
      }
      sendAck("START", true, NULL);
      return;
    case ENL1_CMD_STOP:
      if (phase != 'I') endRecovery(millis(), false);  // aborted: the next baseline is measured in full
      sendAck("STOP", true, NULL);
      return;
    case ENL1_CMD_END:
      // The verdict is in: sample air off at once; the recovery ends when the sensors are clean (advancePhase).
      if (phase == 'I') {
        sendAck("END", false, "idle");
        return;
      }
      if (phase != 'R') {
        enterPhase('R', millis());
        cleanRun = false;
      }
      cycleEnded = true;
      sendAck("END", true, NULL);
      return;
    case ENL1_CMD_INFO:
      sendInfo();  // the info line is the answer: no ack
      return;
    default:
      sendAck("?", false, "malformed");
      return;
  }
}

void setup() {
  pinMode(PUMP_PIN, OUTPUT);
  pinMode(VALVE_PIN, OUTPUT);
  enterPhase('I', millis());
  enl1_reader_init(&reader);
  Serial.begin(BAUD);
  sendInfo();  // at boot: the host reads any later info line as a reboot
  nextFrameMs = millis() + FRAME_PERIOD_MS;
}

void loop() {
  while (Serial.available() > 0) {
    const int b = Serial.read();
    if (b < 0) break;
    if (enl1_reader_feed(&reader, static_cast<uint8_t>(b))) handleLine();
  }
  const uint32_t now = millis();
  advancePhase(now);
  if (static_cast<int32_t>(now - nextFrameMs) >= 0) {
    nextFrameMs += FRAME_PERIOD_MS;
    // After a long stall, do not burst to catch up: frames keep their real times.
    if (static_cast<int32_t>(now - nextFrameMs) >= 0) nextFrameMs = now + FRAME_PERIOD_MS;
    sendFrame(now);
  }
}
