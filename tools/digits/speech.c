/* speech.c — see speech.h. */
#include "speech.h"

#include <errno.h>
#include <espeak-ng/speak_lib.h>
#include <math.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared.h"

#define SPEECH_MAX_RAW (SPEECH_MAX_SECONDS * 22050)
#define SPEECH_MAX_8K (SPEECH_MAX_RAW * DIGITS_RATE / 22050 + 256)

/* What a speaking child hands back. */
typedef struct {
    int32_t n;                   /* samples in pcm (an utterance is cut at the end of pcm) */
    char err[256];               /* why the child failed                  */
    int16_t pcm[SPEECH_MAX_RAW]; /* at espeak's rate                      */
} SpeechShared;

/* One word to speak: sent to a server through a pipe (< PIPE_BUF bytes). */
typedef struct {
    char name[128]; /* espeak-ng voice: "gmw/en-US+f3" */
    char text[16];
    int rate, pitch;
    uint32_t rand_seed;
} SpeechRequest;

typedef struct {
    pid_t pid;
    int request_fd;  /* write end: requests to the server   */
    int reply_fd;    /* read end: the child's wait status   */
    SpeechShared *sh;
} SpeechServer;

struct Speech {
    SpeechInfo info;
    int n;
    SpeechServer *servers;    /* [n]                                             */
    float res[SPEECH_MAX_8K]; /* the utterance at 8 kHz (each process its own copy) */
};

static SpeechShared *g_out; /* where on_synth appends; set in the child */

static int on_synth(short *wav, int n, espeak_EVENT *events) {
    (void)events;
    if (!wav || !g_out) return 0;
    for (int i = 0; i < n; i++) {
        if (g_out->n >= SPEECH_MAX_RAW) return 1; /* stop synthesis */
        g_out->pcm[g_out->n++] = wav[i];
    }
    return 0;
}

/* The voice whose language list names lang with the lowest priority number. */
static const espeak_VOICE *find_voice(const espeak_VOICE **all, const char *lang) {
    const espeak_VOICE *best = NULL;
    int best_prio = 1 << 30;
    for (int i = 0; all && all[i]; i++) {
        const char *l = all[i]->languages;
        for (; l && *l; l += strlen(l + 1) + 2) {
            if (!strcasecmp(l + 1, lang) && *l < best_prio) {
                best = all[i];
                best_prio = *l;
            }
        }
    }
    return best;
}

static int init_engine(SpeechInfo *info, char *err, size_t errlen) {
    memset(info, 0, sizeof *info);
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT);
    if (rate <= 0) {
        snprintf(err, errlen, "espeak-ng failed to start (is espeak-ng-data installed? scripts/install-deps.sh)");
        return -1;
    }
    if (rate != 22050) {
        snprintf(err, errlen, "espeak-ng speaks at %d Hz, expected 22050", rate);
        return -1;
    }
    info->espeak_rate = rate;
    espeak_SetSynthCallback(on_synth);
    const char *data = NULL;
    snprintf(info->espeak_version, sizeof info->espeak_version, "%s", espeak_Info(&data));
    snprintf(info->soxr_version, sizeof info->soxr_version, "%s", soxr_version());

    const espeak_VOICE **all = espeak_ListVoices(NULL);
    for (int v = 0; v < DIGITS_N_VOICES; v++) {
        const espeak_VOICE *ev = find_voice(all, digits_voices[v]);
        if (!ev || !ev->identifier) {
            snprintf(err, errlen, "espeak-ng has no voice for '%s'", digits_voices[v]);
            return -1;
        }
        snprintf(info->voice_id[v], sizeof info->voice_id[v], "%s", ev->identifier);
    }
    for (int k = 1; k < DIGITS_N_VARIANTS && data; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/voices/!v/%s", data, digits_variants[k]);
        if (access(path, R_OK) != 0) {
            snprintf(err, errlen, "espeak-ng has no voice variant '%s' (%s: %s)", digits_variants[k], path,
                     strerror(errno));
            return -1;
        }
    }
    /* Load the English dictionary once here, so each child need not. */
    if (espeak_SetVoiceByName(info->voice_id[0]) != EE_OK) {
        snprintf(err, errlen, "espeak-ng cannot load voice '%s'", info->voice_id[0]);
        return -1;
    }
    return 0;
}

void speech_draw(const DigitsParams *p, const DigitsKeys *k, uint64_t step, SpeechVoice *v) {
    v->voice = (int)digits_uniform_int(k, ST_SPEECH, step, DRAW_SPEECH_VOICE, 0, DIGITS_N_VOICES - 1);
    v->variant = (int)digits_uniform_int(k, ST_SPEECH, step, DRAW_SPEECH_VARIANT, 0, DIGITS_N_VARIANTS - 1);
    v->rate = (int)digits_uniform_int(k, ST_SPEECH, step, DRAW_SPEECH_RATE, p->rate_min, p->rate_max);
    v->pitch = (int)digits_uniform_int(k, ST_SPEECH, step, DRAW_SPEECH_PITCH, p->pitch_min, p->pitch_max);
    v->rand_seed = (uint32_t)(digits_uniform(k, ST_SPEECH, step, DRAW_SPEECH_RAND) * 16777216.0);
}

void speech_voice_name(const SpeechInfo *info, const SpeechVoice *v, char *buf, size_t n) {
    const char *variant = digits_variants[v->variant];
    snprintf(buf, n, "%s%s%s", info->voice_id[v->voice], *variant ? "+" : "", variant);
}

/* In a child of a server: speak, leave the samples in sh, never return. */
static _Noreturn void speak_child(SpeechShared *sh, const SpeechRequest *r) {
    g_out = sh;
    sh->n = 0;
    sh->err[0] = 0;
    srand(r->rand_seed);
    if (espeak_SetVoiceByName(r->name) != EE_OK) {
        snprintf(sh->err, sizeof sh->err, "espeak-ng cannot select voice '%s'", r->name);
        _exit(3);
    }
    espeak_SetParameter(espeakRATE, r->rate, 0);
    espeak_SetParameter(espeakPITCH, r->pitch, 0);
    espeak_ERROR e = espeak_Synth(r->text, strlen(r->text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_AUTO, NULL, NULL);
    if (e != EE_OK) {
        snprintf(sh->err, sizeof sh->err, "espeak-ng failed to speak '%s' with voice '%s' (error %d)", r->text,
                 r->name, (int)e);
        _exit(4);
    }
    _exit(0);
}

/* Reads or writes all n bytes, retrying after signals; 0, or -1 at EOF or error. */
static int full_io(int fd, void *buf, size_t n, int writing) {
    for (size_t done = 0; done < n;) {
        ssize_t k = writing ? write(fd, (char *)buf + done, n - done) : read(fd, (char *)buf + done, n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        done += (size_t)k;
    }
    return 0;
}

/* A server: for each request, fork a speaking child, wait, send back its status. Ends at EOF. */
static _Noreturn void serve(int request_fd, int reply_fd, SpeechShared *sh) {
    SpeechRequest r;
    while (full_io(request_fd, &r, sizeof r, 0) == 0) {
        int status = -1;
        pid_t pid = fork();
        if (pid == 0) speak_child(sh, &r);
        if (pid > 0)
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;
        if (full_io(reply_fd, &status, sizeof status, 1) != 0) break;
    }
    _exit(0);
}

Speech *speech_start(int servers, char *err, size_t errlen) {
    int fds[2 * SPEECH_MAX_SERVERS][2]; /* server k: requests fds[2k], replies fds[2k + 1] */
    Speech *s = calloc(1, sizeof *s);
    if (servers < 1 || servers > SPEECH_MAX_SERVERS) {
        snprintf(err, errlen, "internal error: %d speech servers", servers);
        free(s);
        return NULL;
    }
    if (!s || !(s->servers = calloc((size_t)servers, sizeof *s->servers))) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return NULL;
    }
    s->n = servers;
    for (int k = 0; k < servers; k++) s->servers[k].request_fd = s->servers[k].reply_fd = -1;
    for (int i = 0; i < 2 * servers; i++) fds[i][0] = fds[i][1] = -1;
    if (init_engine(&s->info, err, errlen) != 0) goto fail;
    for (int i = 0; i < 2 * servers; i++)
        if (pipe(fds[i]) != 0) {
            snprintf(err, errlen, "pipe: %s", strerror(errno));
            goto fail;
        }
    for (int k = 0; k < servers; k++)
        if (!(s->servers[k].sh = shared_alloc(sizeof *s->servers[k].sh))) {
            snprintf(err, errlen, "out of memory for speech: %s", strerror(errno));
            goto fail;
        }
    fflush(NULL);
    for (int k = 0; k < servers; k++) {
        pid_t pid = fork();
        if (pid < 0) {
            snprintf(err, errlen, "fork: %s", strerror(errno));
            goto fail;
        }
        if (pid == 0) {
            for (int i = 0; i < 2 * servers; i++)
                for (int e = 0; e < 2; e++)
                    if (!(i == 2 * k && e == 0) && !(i == 2 * k + 1 && e == 1)) close(fds[i][e]);
            serve(fds[2 * k][0], fds[2 * k + 1][1], s->servers[k].sh);
        }
        s->servers[k].pid = pid;
    }
    for (int k = 0; k < servers; k++) {
        close(fds[2 * k][0]);
        close(fds[2 * k + 1][1]);
        s->servers[k].request_fd = fds[2 * k][1];
        s->servers[k].reply_fd = fds[2 * k + 1][0];
    }
    return s;
fail: /* closing every end ends the servers already forked; speech_stop reaps them */
    for (int i = 0; i < 2 * servers; i++)
        for (int e = 0; e < 2; e++)
            if (fds[i][e] >= 0) close(fds[i][e]);
    speech_stop(s);
    return NULL;
}

const SpeechInfo *speech_info(const Speech *s) { return &s->info; }

void speech_stop(Speech *s) {
    if (!s) return;
    for (int k = 0; k < s->n; k++) { /* EOF on its requests ends a server */
        SpeechServer *sv = &s->servers[k];
        if (sv->request_fd >= 0) close(sv->request_fd);
        if (sv->reply_fd >= 0) close(sv->reply_fd);
        if (sv->pid > 0)
            while (waitpid(sv->pid, NULL, 0) < 0 && errno == EINTR) continue;
        shared_free(sv->sh, sizeof *sv->sh);
    }
    free(s->servers);
    free(s);
}

/* Has server k speak r; its child's samples are then in the server's shared memory. */
static int speak(Speech *s, int k, const SpeechRequest *r, char *err, size_t errlen) {
    SpeechServer *sv = &s->servers[k];
    int status;
    errno = 0;
    if (full_io(sv->request_fd, (void *)r, sizeof *r, 1) != 0 || full_io(sv->reply_fd, &status, sizeof status, 0) != 0) {
        snprintf(err, errlen, "the speech server stopped: %s", errno ? strerror(errno) : "end of file");
        return -1;
    }
    if (status == -1) {
        snprintf(err, errlen, "the speech server cannot fork");
        return -1;
    }
    if (WIFSIGNALED(status)) {
        snprintf(err, errlen, "espeak-ng crashed (signal %d) speaking '%s' with voice '%s'", WTERMSIG(status),
                 r->text, r->name);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "%s", sv->sh->err[0] ? sv->sh->err : "espeak-ng failed");
        return -1;
    }
    return 0;
}

int speech_say(Speech *s, int server, const SpeechVoice *v, const char *text, double trim_db, float *word, int *len,
               int *full_len, char *err, size_t errlen) {
    SpeechRequest r = {.rate = v->rate, .pitch = v->pitch, .rand_seed = v->rand_seed};
    speech_voice_name(&s->info, v, r.name, sizeof r.name);
    snprintf(r.text, sizeof r.text, "%s", text);
    if (speak(s, server, &r, err, errlen) != 0) return -1;
    const char *name = r.name;
    SpeechShared *sh = s->servers[server].sh;
    float *res = s->res;
    size_t n = (size_t)sh->n, done = 0;
    if (n == 0) {
        snprintf(err, errlen, "espeak-ng produced no audio for '%s' with voice '%s'", text, name);
        return -1;
    }
    soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_error_t e = soxr_oneshot(s->info.espeak_rate, DIGITS_RATE, 1, sh->pcm, n, NULL, res, SPEECH_MAX_8K,
                                  &done, &io, &q, NULL);
    if (e) {
        snprintf(err, errlen, "soxr: %s", e);
        return -1;
    }
    float peak = 0;
    for (size_t i = 0; i < done; i++) peak = fabsf(res[i]) > peak ? fabsf(res[i]) : peak;
    if (!(peak > 0)) {
        snprintf(err, errlen, "espeak-ng produced silence for '%s' with voice '%s'", text, name);
        return -1;
    }
    float thr = peak * (float)pow(10.0, trim_db / 20.0);
    size_t first = 0, last = done - 1;
    while (first < last && fabsf(res[first]) < thr) first++;
    while (last > first && fabsf(res[last]) < thr) last--;
    *full_len = (int)(last - first + 1);
    *len = *full_len < DIGITS_WINDOW ? *full_len : DIGITS_WINDOW;
    memcpy(word, res + first, (size_t)*len * sizeof *word);
    return 0;
}
