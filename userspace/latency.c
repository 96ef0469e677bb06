// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev latency: named latency distributions for rules (--latency
 * dist:NAME), imported from a real device's measurement or from a preset.
 *
 * Measurements are fio's JSON output, bcc biolatency or bpftrace
 * histograms. The kernel only samples buckets; the arithmetic stays here.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "libaiodev.h"

const char latency_usage[] =
"usage: aiodev latency import [-d N|PATH] NAME FILE\n"
"       aiodev latency preset [-d N|PATH] NAME KIND [KEY=VALUE...]\n"
"       aiodev latency delete [-d N|PATH] NAME\n"
"       (import and preset with -n, --dry-run: print, don't upload)\n"
"\n"
"Define the latency distribution NAME on the device, for rules that take\n"
"--latency dist:NAME; an existing one of that name is replaced. Prints\n"
"the distribution's percentiles (with --dry-run, its buckets too).\n"
"\n"
"import FILE (- for stdin), the format recognised from its content:\n"
"  fio JSON (--output-format=json or json+): the completion latency of\n"
"    the job and direction with the most I/Os, from its histogram bins\n"
"    (json+) or else its percentiles\n"
"  bcc biolatency output (usecs, msecs or nsecs columns)\n"
"  a bpftrace histogram ([LO, HI) COUNT lines; @usecs, @ms or @ns name\n"
"    the unit, microseconds if none does)\n"
"preset KIND:\n"
"  heavy-tail median=TIME [sigma=S] [tail=P] [alpha=A] [max=TIME]\n"
"    a lognormal body (median, sigma, default 0.5) and a Pareto tail of\n"
"    weight P (default 1%) and shape A (default 1.5) above the body,\n"
"    cut at max (default 1000 x median)\n"
"  bimodal fast=TIME slow=TIME [slow-frac=P]\n"
"    most requests near fast, a fraction P (default 1%) near slow\n"
"    (each within +-10%)\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -n, --dry-run         print the distribution and its buckets, change\n"
"                        nothing on the device\n"
"  -h, --help            show this help\n"
"\n"
"TIME is an integer with an optional unit: ns (default), us, ms, s.\n"
"P is a fraction (0.01) or a percentage (1%).\n";

struct dist {
	struct aiodev_dist_bucket b[AIODEV_MAX_DIST_BUCKETS];
	unsigned int nr;
};

/* A bucket of raw measurements, before they are fitted into struct dist. */
struct sample {
	double lo, hi;		/* ns */
	double weight;
};

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

/*
 * Sorted samples into at most AIODEV_MAX_DIST_BUCKETS buckets: neighbours
 * merge when there are too many; weights scale to integers.
 */
static bool fit(struct sample *s, size_t n, struct dist *d)
{
	size_t per = (n + AIODEV_MAX_DIST_BUCKETS - 1) / AIODEV_MAX_DIST_BUCKETS;
	double total = 0, scale;
	size_t i, j;

	qsort(s, n, sizeof(*s), cmp_sample);
	for (i = 0; i < n; i++)
		total += s[i].weight;
	if (!n || total <= 0)
		return false;
	/* The largest bucket weight stays below 2^32. */
	scale = 1e9 / total;
	d->nr = 0;
	for (i = 0; i < n; i += per) {
		struct aiodev_dist_bucket *b = &d->b[d->nr];
		double w = 0, lo = s[i].lo, hi = s[i].hi;

		for (j = i; j < n && j < i + per; j++) {
			w += s[j].weight;
			if (s[j].hi > hi)
				hi = s[j].hi;
		}
		if (w <= 0)
			continue;
		if (lo < 0)
			lo = 0;
		if (hi > (double)AIODEV_MAX_NSEC)
			hi = (double)AIODEV_MAX_NSEC;
		if (hi < lo)
			hi = lo;
		b->min_nsec = (uint64_t)llround(lo);
		b->max_nsec = (uint64_t)llround(hi);
		b->weight = (uint64_t)llround(w * scale);
		if (b->weight)
			d->nr++;
	}
	return d->nr > 0;
}

/* The latency at quantile @q of @d, interpolating within a bucket. */
static double quantile(const struct dist *d, double q)
{
	double total = 0, acc = 0;
	unsigned int i;

	for (i = 0; i < d->nr; i++)
		total += (double)d->b[i].weight;
	for (i = 0; i < d->nr; i++) {
		double w = (double)d->b[i].weight;

		if (acc + w >= q * total) {
			double f = w ? (q * total - acc) / w : 0;

			return (double)d->b[i].min_nsec +
			       f * (double)(d->b[i].max_nsec - d->b[i].min_nsec);
		}
		acc += w;
	}
	return d->nr ? (double)d->b[d->nr - 1].max_nsec : 0;
}

static void print_dist(const char *name, const struct dist *d, bool buckets)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	static const char *const qn[] = { "p50", "p90", "p99", "p99.9" };
	char buf[FMT_LEN];
	unsigned int i;

	printf("%s: %u buckets", name, d->nr);
	for (i = 0; i < ARRAY_SIZE(qs); i++)
		printf(", %s %s", qn[i], fmt_ns(buf, (uint64_t)quantile(d, qs[i])));
	printf("\n");
	/* Machine-readable lines, for scripts: the same, in ns. */
	for (i = 0; i < ARRAY_SIZE(qs); i++)
		printf("%s_ns %.0f\n", qn[i], quantile(d, qs[i]));
	if (!buckets)
		return;
	printf("min_ns max_ns weight\n");
	for (i = 0; i < d->nr; i++)
		printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		       (uint64_t)d->b[i].min_nsec, (uint64_t)d->b[i].max_nsec,
		       (uint64_t)d->b[i].weight);
}

/* ---- fio JSON ---------------------------------------------------------- */

/* The end of the JSON value starting at @p (an object, string or scalar). */
static const char *json_skip(const char *p)
{
	int depth = 0;
	bool str = false;

	for (; *p; p++) {
		if (str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				str = false;
			if (!str && !depth)
				return p + 1;
			continue;
		}
		if (*p == '"') {
			str = true;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (!depth)
				return p;
			if (!--depth)
				return p + 1;
		} else if (!depth && (*p == ',')) {
			return p;
		}
	}
	return p;
}

/*
 * Call @fn for each "key": value member of the object at @obj (which
 * starts with '{'); @fn gets the key and the value's text.
 */
static void json_members(const char *obj, const char *end,
			 void (*fn)(void *, const char *, size_t, const char *),
			 void *arg)
{
	const char *p = obj + 1;

	while (p < end) {
		const char *key, *kend;

		while (p < end && *p != '"' && *p != '}')
			p++;
		if (p >= end || *p == '}')
			return;
		key = ++p;
		while (p < end && *p != '"')
			p += *p == '\\' ? 2 : 1;
		kend = p++;
		while (p < end && (isspace((unsigned char)*p) || *p == ':'))
			p++;
		fn(arg, key, (size_t)(kend - key), p);
		p = json_skip(p);
	}
}

struct fio_clat {
	double n, min, max;
	const char *pct, *bins;	/* the objects, or NULL */
};

static bool key_is(const char *key, size_t len, const char *want)
{
	return strlen(want) == len && !strncmp(key, want, len);
}

static void fio_clat_member(void *arg, const char *key, size_t len,
			    const char *val)
{
	struct fio_clat *c = arg;

	if (key_is(key, len, "N"))
		c->n = strtod(val, NULL);
	else if (key_is(key, len, "min"))
		c->min = strtod(val, NULL);
	else if (key_is(key, len, "max"))
		c->max = strtod(val, NULL);
	else if (key_is(key, len, "percentile") && *val == '{')
		c->pct = val;
	else if (key_is(key, len, "bins") && *val == '{')
		c->bins = val;
}

struct pairs {
	struct sample *s;
	size_t n, cap;
};

static void pair_member(void *arg, const char *key, size_t len,
			const char *val)
{
	struct pairs *p = arg;
	char k[64];

	(void)len;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct sample *s = realloc(p->s, cap * sizeof(*s));

		if (!s)
			return;
		p->s = s;
		p->cap = cap;
	}
	snprintf(k, sizeof(k), "%.*s", (int)(len < 63 ? len : 63), key);
	p->s[p->n].lo = strtod(k, NULL);
	p->s[p->n].hi = strtod(val, NULL);
	p->n++;
}

/* fio's completion latency of the job and direction with the most I/Os. */
static bool import_fio(const char *text, struct dist *d, char *why,
		       size_t whylen)
{
	struct fio_clat best = { 0 };
	const char *p = text;
	struct pairs pr = { 0 };
	bool ok = false;
	size_t i;

	while ((p = strstr(p, "\"clat_ns\""))) {
		struct fio_clat c = { 0 };
		const char *obj = strchr(p, '{'), *end;

		if (!obj)
			break;
		end = json_skip(obj);
		json_members(obj, end, fio_clat_member, &c);
		if (c.n > best.n && (c.pct || c.bins))
			best = c;
		p = end;
	}
	if (!best.n) {
		snprintf(why, whylen, "no completion latency (clat_ns) with I/Os in it");
		return false;
	}
	if (best.bins) {
		/* json+: "latency_ns": count; each bin as its own value. */
		json_members(best.bins, json_skip(best.bins), pair_member, &pr);
		for (i = 0; i < pr.n; i++) {
			pr.s[i].weight = pr.s[i].hi;
			pr.s[i].hi = pr.s[i].lo;
		}
		ok = fit(pr.s, pr.n, d);
	} else {
		/* "percent": latency; a bucket between neighbouring points. */
		struct sample *s;
		double prev_p = 0, prev_v = best.min;
		size_t n = 0;

		json_members(best.pct, json_skip(best.pct), pair_member, &pr);
		qsort(pr.s, pr.n, sizeof(*pr.s), cmp_sample);
		s = calloc(pr.n + 1, sizeof(*s));
		if (!s) {
			free(pr.s);
			snprintf(why, whylen, "out of memory");
			return false;
		}
		for (i = 0; i < pr.n; i++) {
			s[n] = (struct sample){ prev_v, pr.s[i].hi,
						pr.s[i].lo - prev_p };
			prev_p = pr.s[i].lo;
			prev_v = pr.s[i].hi;
			n++;
		}
		if (prev_p < 100 && best.max >= prev_v)
			s[n++] = (struct sample){ prev_v, best.max, 100 - prev_p };
		ok = fit(s, n, d);
		free(s);
	}
	free(pr.s);
	if (!ok)
		snprintf(why, whylen, "the latency histogram is empty");
	return ok;
}

/* ---- biolatency and bpftrace ------------------------------------------ */

/* 1K = 1024 in bpftrace's histograms. */
static double hist_num(const char *s, char **end)
{
	double v = strtod(s, end);

	switch (**end) {
	case 'K':
		(*end)++;
		return v * 1024;
	case 'M':
		(*end)++;
		return v * 1024 * 1024;
	case 'G':
		(*end)++;
		return v * 1024 * 1024 * 1024;
	}
	return v;
}

static double unit_of(const char *line, double fallback)
{
	if (strstr(line, "nsecs") || strstr(line, "@ns"))
		return 1;
	if (strstr(line, "usecs") || strstr(line, "@us"))
		return 1e3;
	if (strstr(line, "msecs") || strstr(line, "@ms"))
		return 1e6;
	return fallback;
}

static bool import_hist(const char *text, struct dist *d, char *why,
			size_t whylen)
{
	struct pairs pr = { 0 };
	double unit = 1e3;
	const char *line = text;
	bool ok;

	while (*line) {
		const char *eol = strchr(line, '\n');
		char buf[256], *p, *end;
		double lo, hi, count;
		size_t len = eol ? (size_t)(eol - line) : strlen(line);

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < 255 ? len : 255),
			 line);
		line += len + !!eol;
		p = buf;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '[') {
			/* bpftrace: "[LO, HI) COUNT |@@@|" or "[N] COUNT" */
			lo = hist_num(p + 1, &end);
			if (end == p + 1)
				continue;
			if (*end == ',') {
				hi = hist_num(end + 1, &end) - 1;
				if (*end != ')')
					continue;
			} else if (*end == ']') {
				hi = lo;
			} else {
				continue;
			}
			count = strtod(end + 1, &end);
		} else if (isdigit((unsigned char)*p) && strstr(p, "->")) {
			/* biolatency: "LO -> HI : COUNT |***|" */
			lo = strtod(p, &end);
			p = strstr(end, "->") + 2;
			hi = strtod(p, &end);
			p = strchr(end, ':');
			if (!p)
				continue;
			count = strtod(p + 1, &end);
		} else {
			unit = unit_of(p, unit);
			continue;
		}
		if (count <= 0)
			continue;
		if (pr.n == pr.cap) {
			size_t cap = pr.cap ? 2 * pr.cap : 64;
			struct sample *s = realloc(pr.s, cap * sizeof(*s));

			if (!s)
				break;
			pr.s = s;
			pr.cap = cap;
		}
		pr.s[pr.n++] = (struct sample){ lo * unit, hi * unit, count };
	}
	ok = fit(pr.s, pr.n, d);
	free(pr.s);
	if (!ok)
		snprintf(why, whylen, "no histogram line with a count");
	return ok;
}

static char *read_all(const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);

	if (!f || !buf) {
		free(buf);
		if (f && f != stdin)
			fclose(f);
		return NULL;
	}
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (len + 1 < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
		if (!buf)
			break;
	}
	if (f != stdin)
		fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* ---- presets ----------------------------------------------------------- */

#define PRESET_BUCKETS	128

struct preset_args {
	double median, sigma, tail, alpha, max;	/* heavy-tail */
	double fast, slow, slow_frac;		/* bimodal */
};

static double lognormal_cdf(double x, double median, double sigma)
{
	return x <= 0 ? 0 : 0.5 * erfc(-log(x / median) / (sigma * M_SQRT2));
}

/* The standard normal's quantile: bisection is plenty for a preset. */
static double normal_quantile(double p)
{
	double lo = -10, hi = 10;
	int i;

	for (i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(-mid / M_SQRT2) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* Body: lognormal; tail: Pareto from the body's 1 - tail quantile on. */
static bool preset_heavy_tail(const struct preset_args *a, struct dist *d)
{
	struct sample s[PRESET_BUCKETS];
	double lo = a->median / 20, hi = a->max, ratio;
	double body_cdf_max = lognormal_cdf(hi, a->median, a->sigma);
	/* The tail starts where the body leaves that much weight. */
	double xm = a->median *
		    exp(a->sigma * normal_quantile(1 - (a->tail > 0 ? a->tail : 0.01)));
	int i;

	ratio = pow(hi / lo, 1.0 / PRESET_BUCKETS);
	for (i = 0; i < PRESET_BUCKETS; i++) {
		double x0 = lo * pow(ratio, i), x1 = x0 * ratio, w;

		w = (1 - a->tail) *
		    (lognormal_cdf(x1, a->median, a->sigma) -
		     lognormal_cdf(x0, a->median, a->sigma)) / body_cdf_max;
		if (a->tail > 0 && x1 > xm) {
			double f0 = x0 > xm ? 1 - pow(xm / x0, a->alpha) : 0;
			double f1 = 1 - pow(xm / x1, a->alpha);
			double fmax = 1 - pow(xm / hi, a->alpha);

			w += a->tail * (f1 - f0) / fmax;
		}
		s[i] = (struct sample){ x0, x1, w };
	}
	return fit(s, PRESET_BUCKETS, d);
}

static bool preset_bimodal(const struct preset_args *a, struct dist *d)
{
	struct sample s[2] = {
		{ a->fast * 0.9, a->fast * 1.1, 1 - a->slow_frac },
		{ a->slow * 0.9, a->slow * 1.1, a->slow_frac },
	};

	return fit(s, a->slow_frac > 0 ? 2 : 1, d);
}

/* KEY=VALUE: the value if @arg's key is @key, else NULL. */
static const char *value_of(const char *arg, const char *key)
{
	size_t len = strlen(key);

	return !strncmp(arg, key, len) && arg[len] == '=' ? arg + len + 1 : NULL;
}

static bool parse_time_d(const char *s, double *ns)
{
	uint64_t v;

	if (!parse_time(s, &v) || !v)
		return false;
	*ns = (double)v;
	return true;
}

static bool parse_positive(const char *s, double *v)
{
	return parse_decimal(s, v) && *v > 0 && *v < 1e6;
}

/* Parse a preset's KEY=VALUE list; returns the exit status on error. */
static int parse_preset(const char *kind, char **args, int n,
			struct preset_args *a)
{
	bool heavy = !strcmp(kind, "heavy-tail");
	int i;

	*a = (struct preset_args){ .sigma = 0.5, .tail = 0.01, .alpha = 1.5,
				   .slow_frac = 0.01 };
	if (!heavy && strcmp(kind, "bimodal"))
		return usage_error("latency", "unknown preset '%s' (heavy-tail, bimodal)",
				   kind);
	for (i = 0; i < n; i++) {
		const char *v;
		bool ok;

		if (heavy && (v = value_of(args[i], "median")))
			ok = parse_time_d(v, &a->median);
		else if (heavy && (v = value_of(args[i], "sigma")))
			ok = parse_positive(v, &a->sigma) && a->sigma <= 5;
		else if (heavy && (v = value_of(args[i], "tail")))
			ok = parse_fraction(v, &a->tail) && a->tail < 1;
		else if (heavy && (v = value_of(args[i], "alpha")))
			ok = parse_positive(v, &a->alpha) && a->alpha <= 10;
		else if (heavy && (v = value_of(args[i], "max")))
			ok = parse_time_d(v, &a->max);
		else if (!heavy && (v = value_of(args[i], "fast")))
			ok = parse_time_d(v, &a->fast);
		else if (!heavy && (v = value_of(args[i], "slow")))
			ok = parse_time_d(v, &a->slow);
		else if (!heavy && (v = value_of(args[i], "slow-frac")))
			ok = parse_fraction(v, &a->slow_frac);
		else
			return usage_error("latency", "%s: unknown parameter '%s'",
					   kind, args[i]);
		if (!ok)
			return usage_error("latency", "%s: bad value in '%s'", kind,
					   args[i]);
	}
	if (heavy) {
		if (!a->median)
			return usage_error("latency", "heavy-tail needs median=TIME");
		if (!a->max)
			a->max = fmin(a->median * 1000, (double)AIODEV_MAX_NSEC);
		if (a->max <= a->median)
			return usage_error("latency", "heavy-tail: max must exceed median");
	} else {
		if (!a->fast || !a->slow)
			return usage_error("latency", "bimodal needs fast=TIME and slow=TIME");
		if (a->slow * 1.1 > (double)AIODEV_MAX_NSEC)
			return usage_error("latency", "bimodal: slow is too long");
	}
	return OPTS_PARSED;
}

static bool name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len >= AIODEV_NAME_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

static int upload(const struct device_arg *dev, const char *name,
		  const struct dist *d)
{
	struct aiodev_info info;
	int fd, err, ret;

	fd = open_device(dev->path, O_RDWR, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	err = aiodev_dist_set(fd, name, d ? d->b : NULL, d ? d->nr : 0);
	ret = EXIT_SUCCESS;
	if (err == -ENOSPC) {
		fail("%s: the device holds %d distributions already", dev->path,
		     AIODEV_MAX_DISTS);
		ret = EXIT_FAILURE;
	} else if (err == -EBUSY) {
		fail("%s: distribution '%s' is in use by a rule", dev->path, name);
		ret = EXIT_FAILURE;
	} else if (err == -ENOENT) {
		fail("%s: no distribution '%s'", dev->path, name);
		ret = EXIT_FAILURE;
	} else if (err) {
		report(-err, "%s: set distribution '%s'", dev->path, name);
		ret = EXIT_FAILURE;
	}
	if (close_device(fd, dev->path) != EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}

static int parse_latency_opts(int argc, char **argv, struct device_arg *dev,
			      bool *dry_run)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	device_arg_init(dev);
	optind = 0;
	/* "+": a preset's parameters are operands, whatever they look like. */
	while ((opt = getopt_long(argc, argv, "+d:nh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (!device_arg_parse(dev, optarg))
				return bad_value("latency", opts, opt, optarg);
			break;
		case 'n':
			*dry_run = true;
			break;
		case 'h':
			fputs(latency_usage, stdout);
			return EXIT_SUCCESS;
		default:	/* getopt_long() said what is wrong */
			return usage_hint("latency");
		}
	}
	return OPTS_PARSED;
}

int cmd_latency(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	static char prog[64];
	struct device_arg dev;
	bool dry_run = false;
	struct dist d;
	char why[128];
	int ret, nargs;

	if (!sub)
		return usage_error("latency", "missing subcommand: import, preset or delete");
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(latency_usage, stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(sub, "import") && strcmp(sub, "preset") &&
	    strcmp(sub, "delete"))
		return usage_error("latency", "unknown subcommand '%s'", sub);
	snprintf(prog, sizeof(prog), "aiodev latency %s", sub);
	argv[1] = prog;
	argc--;
	argv++;

	/* Operands after the options; a preset's KEY=VALUE list is open-ended. */
	nargs = !strcmp(sub, "delete") ? 1 : 2;
	ret = parse_latency_opts(argc, argv, &dev, &dry_run);
	if (ret != OPTS_PARSED)
		return ret;
	if (argc - optind < nargs)
		return usage_error("latency", "missing argument");
	if (strcmp(sub, "preset") && argc - optind > nargs)
		return usage_error("latency", "unexpected argument '%s'",
				   argv[optind + nargs]);
	if (!name_ok(argv[optind]))
		return usage_error("latency",
				   "bad NAME '%s': 1 to %d of A-Z a-z 0-9 _ . -",
				   argv[optind], AIODEV_NAME_LEN - 1);

	if (!strcmp(sub, "delete")) {
		if (dry_run)
			return usage_error("latency", "--dry-run is for import and preset");
		return upload(&dev, argv[optind], NULL);
	}
	if (!strcmp(sub, "import")) {
		const char *file = argv[optind + 1], *p;
		char *text = read_all(file);
		bool ok;

		if (!text) {
			report(errno, "read %s", file);
			return EXIT_FAILURE;
		}
		for (p = text; isspace((unsigned char)*p); p++)
			;
		ok = *p == '{' ? import_fio(p, &d, why, sizeof(why)) :
				 import_hist(p, &d, why, sizeof(why));
		free(text);
		if (!ok)
			return usage_error("latency", "%s: %s", file, why);
	} else {
		struct preset_args a;
		const char *kind = argv[optind + 1];

		ret = parse_preset(kind, argv + optind + 2, argc - optind - 2, &a);
		if (ret != OPTS_PARSED)
			return ret;
		if (!(strcmp(kind, "bimodal") ? preset_heavy_tail(&a, &d) :
						preset_bimodal(&a, &d))) {
			fail("preset %s: no distribution came out", kind);
			return EXIT_FAILURE;
		}
	}
	ret = dry_run ? EXIT_SUCCESS : upload(&dev, argv[optind], &d);
	if (ret == EXIT_SUCCESS)
		print_dist(argv[optind], &d, dry_run);
	return ret;
}
