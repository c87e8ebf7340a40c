// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-read --top on a terminal: the view of top.c drawn with plain
 * ANSI (ECMA-48) sequences, keys read from standard input. No terminal
 * library: the reader links nothing it does not need, and the handful of
 * sequences used here (cursor position, erase line, reverse video, the
 * alternate screen) is what every terminal since the VT100 understands,
 * tmux and the Linux console included. TERM=dumb or unset gets the plain
 * tables of top.c instead (top_screen_usable).
 *
 * What must stay true: the terminal is given back as it was found (modes,
 * cursor, main screen) on every way out: q, SIGINT, SIGTERM, SIGHUP, a
 * failed write; and on Ctrl-Z until the job continues. No line is wider
 * than the terminal, so nothing wraps or scrolls: every cell is cut to its
 * column's width, counted in display columns (wcwidth) in a UTF-8 locale,
 * and in any other locale a name's non-ASCII characters show as '?'.
 */
#include "top.h"

#include "log.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define CSI "\033["

/* Columns of the tables; SRC and DST share what is left of the width. */
#define COL_IFACE 10
#define COL_FAMILY 4
#define COL_ARROW 2
#define COL_RATE 11
#define COL_NAME_MIN 6

struct screen {
	bool keys;           /* standard input is a terminal we read keys from */
	bool utf8;           /* the locale's character set is UTF-8 */
	struct termios saved; /* standard input's modes before */
	int saved_stderr;    /* stderr while the screen is up, or -1 */
	int rows, cols;
	struct buf out;      /* the frame being drawn */
};

static volatile sig_atomic_t resized, suspended;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static void on_tstp(int sig)
{
	(void)sig;
	suspended = 1;
}

bool top_screen_usable(void)
{
	const char *term = getenv("TERM");

	return isatty(1) && term && *term && strcmp(term, "dumb") != 0;
}

/* ---- cells */

struct line {
	struct buf *out;
	int left; /* display columns still free on this line */
	bool utf8;
};

/* The next character of TEXT (LEFT bytes): its bytes in *LEN, its display
 * width as the return value, and what to show in SHOW (the character, or
 * '?' when the locale or the terminal cannot show it). */
static int char_next(const char *text, size_t left, bool utf8, size_t *len,
		     const char **show, size_t *show_len)
{
	uint32_t cp;
	int w;

	*len = utf8_decode((const unsigned char *)text, left, &cp);
	*show = "?";
	*show_len = 1;
	if (!*len) {
		*len = 1; /* a byte that is not UTF-8: one '?' */
		return 1;
	}
	if (utf8_is_control(cp))
		return 1;
	if (!utf8) /* a locale that is not UTF-8: ASCII only */
		w = cp < 0x80 ? 1 : -1;
	else
		w = wcwidth((wchar_t)cp);
	if (w < 0)
		return 1;
	*show = text;
	*show_len = *len;
	return w;
}

/* Display width of TEXT. */
static int text_width(const char *text, bool utf8)
{
	size_t n = strlen(text), len, show_len;
	const char *show;
	int width = 0;

	for (size_t i = 0; i < n; i += len)
		width += char_next(text + i, n - i, utf8, &len, &show, &show_len);
	return width;
}

/* TEXT in exactly WIDTH columns (fewer when the line has less room):
 * padded, or cut with a mark that says so. */
static void line_cell(struct line *l, const char *text, int width, bool right)
{
	const char *cut = l->utf8 ? "\xe2\x80\xa6" : "~"; /* U+2026 "..." */
	size_t n = strlen(text), len, show_len;
	int tw = text_width(text, l->utf8), used = 0;
	const char *show;

	if (width > l->left)
		width = l->left;
	if (width <= 0)
		return;
	if (right && tw < width)
		for (; used < width - tw; used++)
			buf_add(l->out, " ", 1);
	for (size_t i = 0; i < n; i += len) {
		int w = char_next(text + i, n - i, l->utf8, &len, &show, &show_len);

		if (used + w > width || (tw > width && used + w > width - 1)) {
			if (tw > width) { /* cut: the mark in the last column */
				buf_add_str(l->out, cut);
				used++;
			}
			break;
		}
		buf_add(l->out, show, show_len);
		used += w;
	}
	for (; used < width; used++)
		buf_add(l->out, " ", 1);
	l->left -= width;
}

/* TEXT, then one space, when there is room for it. */
static void line_col(struct line *l, const char *text, int width, bool right)
{
	line_cell(l, text, width, right);
	line_cell(l, "", 1, false);
}

/* ---- lines */

static void screen_line_start(struct screen *s, struct line *l, int row)
{
	buf_printf(&s->out, CSI "%d;1H", row + 1);
	*l = (struct line){ .out = &s->out, .left = s->cols, .utf8 = s->utf8 };
}

static void screen_line_end(struct screen *s)
{
	buf_add_str(&s->out, CSI "K");
}

/* A line of plain text (ASCII but for names), cut to the width. */
static void screen_text(struct screen *s, int *row, const char *text)
{
	struct line l;

	if (*row >= s->rows)
		return;
	screen_line_start(s, &l, (*row)++);
	line_cell(&l, text, l.left, false);
	screen_line_end(s);
}

static void format_bits(char *out, size_t len, double v)
{
	static const char *const units[] = { "b/s", "kb/s", "Mb/s", "Gb/s",
					     "Tb/s", "Pb/s" };
	size_t u = 0;

	if (v < 1000) {
		snprintf(out, len, "%.0f b/s", v);
		return;
	}
	while (v >= 999.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, "%.1f %s", v, units[u]);
}

static void format_packets(char *out, size_t len, double v)
{
	if (v < 10000)
		snprintf(out, len, "%.0f p/s", v);
	else if (v < 10e6)
		snprintf(out, len, "%.1fk p/s", v / 1e3);
	else
		snprintf(out, len, "%.1fM p/s", v / 1e6);
}

/* The two rate cells of a row: figures, "-" before the second reading,
 * "reset" when the counter went backwards. */
static void line_rates(struct line *l, const struct top_row *r)
{
	char bits[32], packets[32];

	if (r->state == TOP_FIRST) {
		snprintf(bits, sizeof(bits), "-");
		snprintf(packets, sizeof(packets), "-");
	} else if (r->state == TOP_RESET) {
		snprintf(bits, sizeof(bits), "reset");
		snprintf(packets, sizeof(packets), "reset");
	} else {
		format_bits(bits, sizeof(bits), r->bits_rate);
		format_packets(packets, sizeof(packets), r->packets_rate);
	}
	line_col(l, bits, COL_RATE, true);
	line_cell(l, packets, COL_RATE, true);
}

static bool row_shown(const struct top_run_state *st, const struct top_row *r)
{
	return st->family == TOP_ALL || r->family == st->family;
}

/* ---- sections */

static void draw_title(struct screen *s, const struct top_run_state *st,
		       int *row)
{
	static const char *const sorts[] = { "bits/s", "packets/s", "name" };
	char text[256], clock[16];
	time_t t = (time_t)(st->view.at_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(text, sizeof(text),
		 "texporter  every %.1f s  sort: %s  family: %s  %s",
		 (double)st->interval_ms / 1000, sorts[st->sort],
		 top_family_names[st->family], clock);
	buf_add_str(&s->out, CSI "7m"); /* reverse video: the title bar */
	screen_text(s, row, text);
	buf_add_str(&s->out, CSI "m");
}

static void draw_status(struct screen *s, const struct top_run_state *st,
			int *row)
{
	char text[ERR_LEN + 64];

	if (st->view.error[0])
		snprintf(text, sizeof(text),
			 "reading failed, showing the last good one: %s",
			 st->view.error);
	else if (st->view.totals[TOP_ALL].state == TOP_FIRST)
		snprintf(text, sizeof(text),
			 "first reading: no rates yet, they follow in %.1f s",
			 (double)st->interval_ms / 1000);
	else
		snprintf(text, sizeof(text),
			 "q quit  b/p/n sort by bits/s, packets/s, name  "
			 "f family (all, ipv4, ipv6)");
	screen_text(s, row, text);
}

/* Totals per family, then each interface per family. */
static void draw_ifaces(struct screen *s, const struct top_run_state *st,
			int *row)
{
	const struct top_view *v = &st->view;
	struct line l;

	screen_text(s, row, "");
	if (*row < s->rows) {
		screen_line_start(s, &l, (*row)++);
		line_col(&l, "INTERFACE", COL_IFACE, false);
		line_col(&l, "FAM", COL_FAMILY, false);
		line_col(&l, "BITS/S", COL_RATE, true);
		line_cell(&l, "PACKETS/S", COL_RATE, true);
		screen_line_end(s);
	}
	for (int f = 0; f < TOP_FAMILIES && *row < s->rows; f++) {
		if (st->family != TOP_ALL && f != st->family)
			continue;
		screen_line_start(s, &l, (*row)++);
		/* A space no interface name can hold marks the totals. */
		line_col(&l, "all ifaces", COL_IFACE, false);
		line_col(&l, top_family_names[f], COL_FAMILY, false);
		line_rates(&l, &v->totals[f]);
		screen_line_end(s);
	}
	for (size_t i = 0; i < v->n_ifaces && *row < s->rows; i++) {
		if (!row_shown(st, &v->ifaces[i]))
			continue;
		screen_line_start(s, &l, (*row)++);
		line_col(&l, v->ifaces[i].iface, COL_IFACE, false);
		line_col(&l, top_family_names[v->ifaces[i].family], COL_FAMILY,
			 false);
		line_rates(&l, &v->ifaces[i]);
		screen_line_end(s);
	}
}

static void draw_pair(struct screen *s, const struct top_row *r, int name_w,
		      int row)
{
	struct line l;

	screen_line_start(s, &l, row);
	line_col(&l, r->iface, COL_IFACE, false);
	line_col(&l, top_family_names[r->family], COL_FAMILY, false);
	line_col(&l, r->src, name_w, false);
	line_col(&l, "->", COL_ARROW, false);
	line_col(&l, r->dst, name_w, false);
	line_rates(&l, r);
	screen_line_end(s);
}

/* The (src, dst) pairs, as many as fit; the last line says how many not. */
static void draw_pairs(struct screen *s, const struct top_run_state *st,
		       int *row)
{
	const struct top_view *v = &st->view;
	int fixed = COL_IFACE + COL_FAMILY + COL_ARROW + 2 * COL_RATE + 6;
	int name_w = (s->cols - fixed) / 2;
	size_t shown = 0, total = 0;
	struct line l;

	if (name_w < COL_NAME_MIN)
		name_w = COL_NAME_MIN;
	for (size_t i = 0; i < v->n_pairs; i++)
		total += row_shown(st, &v->pairs[i]);
	screen_text(s, row, "");
	if (*row < s->rows) {
		screen_line_start(s, &l, (*row)++);
		line_col(&l, "INTERFACE", COL_IFACE, false);
		line_col(&l, "FAM", COL_FAMILY, false);
		line_col(&l, "SOURCE", name_w, false);
		line_col(&l, "", COL_ARROW, false);
		line_col(&l, "DESTINATION", name_w, false);
		line_col(&l, "BITS/S", COL_RATE, true);
		line_cell(&l, "PACKETS/S", COL_RATE, true);
		screen_line_end(s);
	}
	for (size_t i = 0; i < v->n_pairs && *row < s->rows; i++) {
		char more[64];

		if (!row_shown(st, &v->pairs[i]))
			continue;
		if (*row == s->rows - 1 && total - shown > 1) {
			snprintf(more, sizeof(more), "... %zu more pairs",
				 total - shown);
			screen_text(s, row, more);
			break;
		}
		draw_pair(s, &v->pairs[i], name_w, (*row)++);
		shown++;
	}
	if (!total)
		screen_text(s, row, "(no traffic counted yet)");
}

/* The top unmatched prefixes, drawn like the pairs: the prefix on the
 * side it was seen on, "*" (any address of the unmatched range) on the
 * other. Only when the interfaces track them; as many as fit. */
static void draw_unmatched(struct screen *s, const struct top_run_state *st,
			   int *row)
{
	const struct top_view *v = &st->view;
	int fixed = COL_IFACE + COL_FAMILY + COL_ARROW + 2 * COL_RATE + 6;
	int name_w = (s->cols - fixed) / 2;

	if (name_w < COL_NAME_MIN)
		name_w = COL_NAME_MIN;
	if (!v->n_unmatched || *row >= s->rows - 2)
		return;
	screen_text(s, row, "");
	screen_text(s, row, "TOP UNMATCHED PREFIXES");
	for (size_t i = 0; i < v->n_unmatched && *row < s->rows; i++) {
		const struct top_unmatched_row *u = &v->unmatched[i];
		struct top_row r = u->row;

		if (!row_shown(st, &r))
			continue;
		r.src = u->side == TEXPORTER_SIDE_SRC ? u->prefix : "*";
		r.dst = u->side == TEXPORTER_SIDE_DST ? u->prefix : "*";
		draw_pair(s, &r, name_w, (*row)++);
	}
}

/* One frame, written at once: every line is overwritten in place and the
 * rest of the screen erased, so nothing flickers. */
static int screen_draw(struct screen *s, const struct top_run_state *st)
{
	int row = 0;

	s->out.len = 0;
	buf_add_str(&s->out, CSI "?25l"); /* no cursor */
	draw_title(s, st, &row);
	draw_status(s, st, &row);
	draw_ifaces(s, st, &row);
	draw_pairs(s, st, &row);
	draw_unmatched(s, st, &row);
	if (row < s->rows)
		buf_printf(&s->out, CSI "%d;1H" CSI "J", row + 1);
	if (s->out.failed) {
		errno = ENOMEM;
		return -1;
	}
	return write_all(1, s->out.data, s->out.len);
}

/* ---- the terminal */

static void screen_measure(struct screen *s)
{
	struct winsize ws;

	s->rows = 24;
	s->cols = 80;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		s->rows = ws.ws_row;
		s->cols = ws.ws_col;
	}
}

static bool same_terminal(int a, int b)
{
	struct stat sa, sb;

	return isatty(a) && isatty(b) && fstat(a, &sa) == 0 &&
	       fstat(b, &sb) == 0 && sa.st_rdev == sb.st_rdev;
}

/* Keys without Enter and without echo; Ctrl-C still raises SIGINT. The
 * alternate screen keeps the shell's scrollback as it was. */
static void screen_enter(struct screen *s)
{
	struct termios raw;

	s->keys = isatty(0) && tcgetattr(0, &s->saved) == 0;
	if (s->keys) {
		raw = s->saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(0, TCSAFLUSH, &raw);
	}
	/* Messages on the same terminal would tear the frame; the status
	 * line shows why a reading failed instead. */
	s->saved_stderr = -1;
	if (same_terminal(1, 2)) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		s->saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
		if (null >= 0 && s->saved_stderr >= 0)
			dup2(null, 2);
		if (null >= 0)
			close(null);
	}
	screen_measure(s);
	write_all(1, CSI "?1049h" CSI "2J", sizeof(CSI "?1049h" CSI "2J") - 1);
}

static void screen_leave(struct screen *s)
{
	static const char restore[] = CSI "m" CSI "?25h" CSI "?1049l";

	write_all(1, restore, sizeof(restore) - 1);
	if (s->keys)
		tcsetattr(0, TCSAFLUSH, &s->saved);
	if (s->saved_stderr >= 0) {
		dup2(s->saved_stderr, 2);
		close(s->saved_stderr);
		s->saved_stderr = -1;
	}
}

/* Ctrl-Z: give the terminal back, stop, take it again on SIGCONT. */
static void screen_suspend(struct screen *s)
{
	suspended = 0;
	screen_leave(s);
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	top_catch_signal(SIGTSTP, on_tstp);
	screen_enter(s);
}

/* Applies one key; false for quit. */
static bool screen_key(struct top_run_state *st, char key)
{
	switch (key) {
	case 'q': case 'Q':
		return false;
	case 'b': case 'B':
		st->sort = TOP_SORT_BITS;
		break;
	case 'p': case 'P':
		st->sort = TOP_SORT_PACKETS;
		break;
	case 'n': case 'N':
		st->sort = TOP_SORT_NAME;
		break;
	case 'f': case 'F':
		st->family = (st->family + 1) % TOP_FAMILIES;
		break;
	case '4':
		st->family = TOP_IPV4;
		break;
	case '6':
		st->family = TOP_IPV6;
		break;
	case 'a': case 'A':
		st->family = TOP_ALL;
		break;
	default:
		break;
	}
	top_view_sort(&st->view, st->sort);
	return true;
}

/* Reads the keys waiting on standard input; false for quit. */
static bool screen_keys(struct screen *s, struct top_run_state *st)
{
	char keys[64];
	ssize_t n = read(0, keys, sizeof(keys));

	if (n <= 0) {
		if (n == 0 || !errno_is_transient())
			s->keys = false; /* input closed: no keys from now on */
		return true;
	}
	for (ssize_t i = 0; i < n; i++)
		if (!screen_key(st, keys[i]))
			return false;
	return true;
}

/* Waits for a key, a signal or the deadline; false when it is time to go. */
static bool screen_wait(struct screen *s, struct top_run_state *st,
			int64_t deadline)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0)
		return true;
	n = poll(&pfd, s->keys ? 1 : 0, (int)left);
	if (n > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) &&
	    !(pfd.revents & POLLIN))
		s->keys = false;
	else if (n > 0 && !screen_keys(s, st))
		return false;
	return true;
}

int top_screen_loop(const struct scrape_config *cfg, struct top_run_state *st)
{
	struct screen s = { .saved_stderr = -1 };
	int64_t next = now_ms() + st->interval_ms;
	int rc = EXIT_OK, write_errno = 0;
	const char *codeset;

	setlocale(LC_CTYPE, "");
	codeset = nl_langinfo(CODESET);
	s.utf8 = codeset && !strcmp(codeset, "UTF-8");
	top_catch_signal(SIGWINCH, on_winch);
	top_catch_signal(SIGTSTP, on_tstp);
	screen_enter(&s);
	while (!top_stopping()) {
		if (resized) {
			resized = 0;
			screen_measure(&s);
			write_all(1, CSI "2J", sizeof(CSI "2J") - 1);
		}
		if (suspended)
			screen_suspend(&s);
		if (now_ms() >= next) {
			top_read(cfg, st);
			next += st->interval_ms;
			if (next < now_ms())
				next = now_ms() + st->interval_ms;
		}
		if (screen_draw(&s, st)) {
			write_errno = errno;
			rc = EXIT_RUNTIME;
			break;
		}
		if (!screen_wait(&s, st, next))
			break;
	}
	screen_leave(&s);
	if (rc)
		log_error("cannot write to the terminal: %s",
			  strerror(write_errno));
	buf_free(&s.out);
	return rc;
}
