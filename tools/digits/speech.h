/* speech.h — a spoken word: espeak-ng, resampled to 8 kHz, silence trimmed.
 *
 * espeak-ng keeps state from one utterance to the next (pitch flutter,
 * filters, echo, its rand() noise), so the same request spoken twice in a
 * row gives different samples. To make every word a pure function of its
 * parameters, no process speaks twice: speech_start initializes espeak-ng
 * and forks small server processes from that state; for each word a server
 * forks a child (a copy of the pristine engine) that seeds rand() from the
 * sample's draws, speaks into memory shared with the caller, and exits.
 * Forking from the small server, not from a worker holding the data set,
 * keeps each fork cheap.
 */
#ifndef MMGC_DIGITS_SPEECH_H
#define MMGC_DIGITS_SPEECH_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"

#define SPEECH_MAX_SECONDS 4  /* longer utterances are cut (a digit word is under 1.5 s) */
#define SPEECH_MAX_SERVERS 64

typedef struct {
    char espeak_version[32];                /* espeak_Info(): "1.51"             */
    char soxr_version[32];                  /* soxr_version(): "libsoxr-0.1.3"   */
    int espeak_rate;                        /* Hz: 22050                         */
    char voice_id[DIGITS_N_VOICES][64];     /* espeak-ng voice file: "gmw/en-US" */
} SpeechInfo;

typedef struct {
    int voice, variant; /* indexes into digits_voices, digits_variants */
    int rate, pitch;    /* espeakRATE (words per minute), espeakPITCH (0-100) */
    uint32_t rand_seed; /* srand() before speaking: espeak's noise sources   */
} SpeechVoice;

typedef struct Speech Speech;

/* Starts espeak-ng (synchronous), finds each of digits_voices among its
 * voices (by language, lowest priority number), checks each variant exists,
 * and forks `servers` speech servers. Call it early: each server is a copy
 * of the calling process. NULL with a message on failure. */
Speech *speech_start(int servers, char *err, size_t errlen);
const SpeechInfo *speech_info(const Speech *s);
/* Ends the servers and frees s. */
void speech_stop(Speech *s);

/* The voice of a sample: uniform over voices, variants, [rate_min, rate_max], [pitch_min, pitch_max]. */
void speech_draw(const DigitsParams *p, const DigitsKeys *k, uint64_t step, SpeechVoice *v);

/* Speaks text with voice v on server `server` (one caller per server at a
 * time): 16-bit at espeak's 22050 Hz, resampled to 8 kHz (soxr_oneshot,
 * SOXR_HQ), cut to the samples at or above peak * 10^(trim_db / 20).
 * word[DIGITS_WINDOW] receives the first second, *len its length
 * (<= DIGITS_WINDOW), *full_len the trimmed length before the cut. Values
 * are soxr's (int16 / 32768). -1 with a message on failure. */
int speech_say(Speech *s, int server, const SpeechVoice *v, const char *text, double trim_db, float *word, int *len,
               int *full_len, char *err, size_t errlen);

/* "gmw/en-US+f3" (or "gmw/en-US" for no variant) into buf. */
void speech_voice_name(const SpeechInfo *info, const SpeechVoice *v, char *buf, size_t n);

#endif
