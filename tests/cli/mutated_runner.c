/* Runs `deltakern info MODEL` and `deltakern run MODEL -i X -b ref` on many
 * models, each in a forked child of one process that has already loaded the
 * libraries: the CLI's own main(), at a few milliseconds a model
 * instead of the half second the dynamic loader spends on cuBLAS per exec.
 * A child's stdout goes to /dev/null and its stderr to a file; it is killed
 * (SIGKILL) after LIMIT seconds. Prints "MODEL<TAB>CMD<TAB>OUTCOME" per
 * command: accepted (exit 0, nothing on stderr but notes), refused (exit 2 and
 * exactly one "deltakern: error: " line on stderr besides notes), hang, or crash(...) (a signal, a
 * sanitizer's exit code, another code, or other stderr lines), and keeps the
 * stderr of every crash and hang as ERRDIR/MODEL.CMD.err.
 * usage: mutated_runner LIMIT JOBS DIR X.npy ERRDIR < model names (one a line) */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* tools/cli_main.c's main(), renamed for this program (tests/CMakeLists.txt) */
int deltakern_main(int argc, char **argv);

#define MAX_SLOTS 64

typedef struct slot {
    pid_t pid;
    time_t start;
    int killed;
    char model[256];
    const char *cmd;
    char err[4096];
} slot;

static const char *dir, *x_npy, *errdir;

static void child(const char *model, const char *cmd, const char *err)
{
    /* the model list is the parent's: exit() would seek the shared stdin
     * back to what this copy of its buffer had not read */
    close(0);
    int null = open("/dev/null", O_WRONLY), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null < 0 || e < 0) _exit(99);
    dup2(null, 1);
    dup2(e, 2);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, model);
    char *info[] = {"deltakern", "info", path, NULL};
    char *run[] = {"deltakern", "run", path, "-i", (char *)x_npy, "-b", "ref", NULL};
    int rc = !strcmp(cmd, "info") ? deltakern_main(3, info) : deltakern_main(7, run);
    fflush(NULL);
    exit(rc); /* exit, not _exit: atexit handlers and the leak check run */
}

static void report(slot *s, int status)
{
    char outcome[64] = "crash";
    FILE *f = fopen(s->err, "r");
    int lines = 0, errors = 0; /* lines other than notes ("note: ..."), errors among them */
    char line[8192];
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "note: ", 6)) continue;
        lines++;
        errors += !strncmp(line, "deltakern: error: ", 18);
    }
    if (f) fclose(f);
    if (s->killed)
        snprintf(outcome, sizeof outcome, "hang");
    else if (WIFSIGNALED(status))
        snprintf(outcome, sizeof outcome, "crash(signal %d)", WTERMSIG(status));
    else if (WEXITSTATUS(status) == 0 && lines == 0)
        snprintf(outcome, sizeof outcome, "accepted");
    else if (WEXITSTATUS(status) == 2 && lines == 1 && errors == 1)
        snprintf(outcome, sizeof outcome, "refused");
    else
        snprintf(outcome, sizeof outcome, "crash(exit %d, %d stderr lines)", WEXITSTATUS(status), lines);
    printf("%s\t%s\t%s\n", s->model, s->cmd, outcome);
    fflush(stdout);
    if (strncmp(outcome, "crash", 5) && strcmp(outcome, "hang")) unlink(s->err);
    s->pid = 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: mutated_runner LIMIT JOBS DIR X.npy ERRDIR < model names\n");
        return 2;
    }
    int limit = atoi(argv[1]), jobs = atoi(argv[2]);
    if (jobs < 1) jobs = 1;
    if (jobs > MAX_SLOTS) jobs = MAX_SLOTS;
    dir = argv[3];
    x_npy = argv[4];
    errdir = argv[5];
    slot slots[MAX_SLOTS] = {0};
    char model[256];
    int more = 1, cmd_i = 2;
    while (1) {
        /* fill free slots */
        for (int k = 0; k < jobs && more; k++) {
            if (slots[k].pid) continue;
            if (cmd_i == 2) {
                if (!fgets(model, sizeof model, stdin)) {
                    more = 0;
                    break;
                }
                model[strcspn(model, "\n")] = 0;
                cmd_i = 0;
            }
            slot *s = &slots[k];
            memcpy(s->model, model, sizeof s->model);
            s->cmd = cmd_i++ == 0 ? "info" : "run";
            snprintf(s->err, sizeof s->err, "%s/%s.%s.err", errdir, model, s->cmd);
            s->start = time(NULL);
            s->killed = 0;
            fflush(stdout);
            pid_t pid = fork();
            if (pid < 0) {
                perror("fork");
                return 1;
            }
            if (pid == 0) child(s->model, s->cmd, s->err);
            s->pid = pid;
        }
        int running = 0;
        for (int k = 0; k < jobs; k++) running += slots[k].pid != 0;
        if (!running && !more) break;
        int status;
        pid_t done = waitpid(-1, &status, WNOHANG);
        if (done > 0) {
            for (int k = 0; k < jobs; k++)
                if (slots[k].pid == done) report(&slots[k], status);
            continue;
        }
        for (int k = 0; k < jobs; k++)
            if (slots[k].pid && !slots[k].killed && time(NULL) - slots[k].start > limit) {
                kill(slots[k].pid, SIGKILL);
                slots[k].killed = 1;
            }
        usleep(2000);
    }
    return 0;
}
