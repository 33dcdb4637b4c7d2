/* Chunker/parser of the noun-phrase extractor: builds nested noun phrases over tagged
 * tokens.
 *
 * Grammar (tags from nps_tag.c), right-branching like English constituency trees:
 *   base  := [PDET] [DET|POSSDET] (ADV* ADJ | NUM | NOUN | ADJ (,|CONJ) ADJ)* HEAD
 *            | PRON | EX                        (pronoun NPs, only kept inside larger ones)
 *   poss  := base POS (mods HEAD)?              "the man 's face" > "the man 's"
 *   np    := poss ( PREP coord                  "three bottles of soft drink"
 *                 | VERB-ing [coord] [PREP coord]  "a man holding a cup"
 *                 | VERB-ed PREP coord )        "a cake covered in cream"
 *   coord := np ((, np)* [,] CONJ np)?          "the small red circle and the blue square"
 * A prepositional phrase attaches to the noun phrase before it (low attachment) unless the
 * governing verb takes that preposition itself ("replace X with Y", "move X to Y", "remove X
 * from Y", "put X on Y"), or the preposition rarely modifies nouns ("than", "during", ...).
 * Depths approximate a Penn-style tree: subject NP 2, each verb/auxiliary one level deeper,
 * an NP inside a PP one more; inside an NP, a child NP is one level below, an NP inside its
 * PP two. Relative clauses and appositions are not built (their parts still are). */
#include <stdio.h>
#include <string.h>

#include "nps/nps_internal.h"

typedef struct {
    const char *cap;
    const nps_token *tok;
    int n;
    nps_node *nodes;
    int cap_nodes, count;
    int nest; /* parse_np recursion depth, bounded by NPS_MAX_NEST */
} parser;

/* Deeper nesting than this is parsed flat (keeps the stack small on hostile input). */
#define NPS_MAX_NEST 48
/* At most this many modifiers before a head noun. */
#define NPS_MAX_MODS 32

/* The governing verb of a direct object, for its preposition frames (-1: none). */
typedef struct {
    int verb;   /* the verb whose preposition frames apply inside this phrase */
    bool in_of; /* the object of "of": only further "of" phrases attach inside it */
    bool in_pp; /* the object of another preposition: a participle after it modifies the
                 * phrase above ("a woman in a raincoat | walking her dog") */
} np_ctx;

static bool is_word(const parser *p, int i, const char *w) {
    if (i < 0 || i >= p->n) return false;
    char b[32];
    nps_token_lower(p->cap, &p->tok[i], b, sizeof b);
    return strcmp(b, w) == 0;
}

static nps_tag tag_at(const parser *p, int i) { return i >= 0 && i < p->n ? p->tok[i].tag : NPS_OTHER; }

static int add_node(parser *p, int first, int last) {
    if (p->count >= p->cap_nodes) return -1;
    nps_node *nd = &p->nodes[p->count];
    nd->first = first;
    nd->last = last;
    nd->depth = 0;
    nd->rel = 1;
    nd->parent = -1;
    return p->count++;
}

static void adopt(parser *p, int parent, int child, int rel) {
    if (parent < 0 || child < 0) return;
    p->nodes[child].parent = parent;
    p->nodes[child].rel = rel;
}

static bool nominal(nps_tag t) { return t == NPS_NOUN || t == NPS_PROPN; }

/* Modifiers and head after a determiner (or a possessor) starting at k; returns the head
 * token (last noun/number), or the last adjective when there is no noun and allow_adj. */
static int scan_mods(const parser *p, int k, int *end, bool allow_adj) {
    int head = -1, last_adj = -1, start = k;
    while (k < p->n) {
        nps_tag t = tag_at(p, k);
        /* bounded work per start token: no noun within NPS_MAX_MODS modifiers, no phrase */
        if (head < 0 && k - start > NPS_MAX_MODS) break;
        /* a proper noun right after a common noun starts something else ("director Nov. 29") */
        if (t == NPS_PROPN && head >= 0 && tag_at(p, head) == NPS_NOUN) break;
        if (nominal(t) || t == NPS_NUM) {
            head = k++;
            continue;
        }
        /* a proper noun used as a modifier: "this British industrial conglomerate" */
        if (t == NPS_ADJ && head >= 0 && tag_at(p, head) == NPS_PROPN) {
            int a = k;
            while (tag_at(p, a) == NPS_ADJ && a - k < NPS_MAX_MODS) a++;
            if (tag_at(p, a) == NPS_NOUN) {
                head = -1;
                last_adj = a - 1;
                k = a;
                continue;
            }
        }
        if (head >= 0 && !(nominal(tag_at(p, head)) || tag_at(p, head) == NPS_NUM)) break;
        if (t == NPS_ADJ && head < 0) {
            last_adj = k++;
            continue;
        }
        if (t == NPS_ADJ && head >= 0 && tag_at(p, head) == NPS_NUM && !nominal(tag_at(p, head - 1))) {
            last_adj = k++; /* "3 large", "two small" */
            head = -1;
            continue;
        }
        if (t == NPS_ADV && head < 0) { /* "very large", "about 50" */
            int a = k;
            while (tag_at(p, a) == NPS_ADV && a - k < NPS_MAX_MODS) a++;
            if (tag_at(p, a) == NPS_ADJ || tag_at(p, a) == NPS_NUM) {
                k = a;
                continue;
            }
            break;
        }
        /* "black and white stripes", "a long, thin tail": adjectives joined before a noun */
        if ((t == NPS_CONJ || (t == NPS_PUNCT && is_word(p, k, ","))) && head < 0 && last_adj == k - 1 &&
            tag_at(p, k + 1) == NPS_ADJ) {
            int a = k + 1;
            while ((tag_at(p, a) == NPS_ADJ || tag_at(p, a) == NPS_ADV) && a - k < NPS_MAX_MODS) a++;
            if (nominal(tag_at(p, a)) || tag_at(p, a) == NPS_NUM) {
                k++;
                continue;
            }
        }
        break;
    }
    if (head >= 0 && last_adj > head) head = -1; /* cannot happen: adjectives stop after a head */
    if (head < 0 && allow_adj && last_adj >= 0) head = last_adj;
    *end = head >= 0 ? head + 1 : k;
    return head;
}

/* A base noun phrase at i, with possessors; returns its node or -1 and sets *end. */
static int parse_base(parser *p, int i, int *end) {
    nps_tag t = tag_at(p, i);
    if (t == NPS_PRON || t == NPS_EX) {
        *end = i + 1;
        return add_node(p, i, i);
    }
    int k = i;
    bool det = false;
    if (t == NPS_PDET && (tag_at(p, k + 1) == NPS_DET || tag_at(p, k + 1) == NPS_POSSDET)) k++;
    if (tag_at(p, k) == NPS_DET || tag_at(p, k) == NPS_POSSDET) {
        det = true;
        k++;
    }
    /* "a darker shade of blue": a bare adjective after "of" is a noun */
    bool article = det && (tag_at(p, k - 1) == NPS_POSSDET || is_word(p, k - 1, "the") || is_word(p, k - 1, "this") ||
                           is_word(p, k - 1, "that") || is_word(p, k - 1, "these") || is_word(p, k - 1, "those"));
    int e, head = scan_mods(p, k, &e, article || (!det && is_word(p, i - 1, "of") && nominal(tag_at(p, i - 2))));
    if (head < 0) return -1;
    int node = add_node(p, i, head);
    *end = head + 1;
    /* possessors: "the man 's face", "the dogs ' toys" */
    while (node >= 0 && tag_at(p, *end) == NPS_POS) {
        int pos = *end;
        p->nodes[node].last = pos; /* the possessor NP includes its 's */
        int e2, h2 = scan_mods(p, pos + 1, &e2, false);
        if (h2 < 0) {
            *end = pos + 1;
            break;
        }
        int outer = add_node(p, i, h2);
        adopt(p, outer, node, 1);
        node = outer;
        *end = h2 + 1;
    }
    return node;
}

static bool np_start(const parser *p, int i) {
    nps_tag t = tag_at(p, i);
    return t == NPS_DET || t == NPS_PDET || t == NPS_POSSDET || t == NPS_NUM || t == NPS_ADJ || nominal(t) ||
           t == NPS_PRON || (t == NPS_ADV && tag_at(p, i + 1) == NPS_NUM);
}

/* Does the verb at v take the preposition at q itself ("replace X with Y")? */
static bool verb_frame(const parser *p, int v, int q) {
    if (v < 0) return false;
    static const struct {
        const char *stem, *preps;
    } frames[] = {
        {"replac", " with by "},       {"substitut", " with for "}, {"chang", " to into with "},
        {"turn", " to into "},         {"convert", " to into "},    {"transform", " to into "},
        {"switch", " to with for "},   {"swap", " for with "},      {"exchang", " for with "},
        {"trad", " for with "},        {"mak", " into "},           {"remov", " from off "},
        {"delet", " from "},           {"eras", " from "},          {"tak", " from off out "},
        {"took", " from off out "},    {"fill", " with "},          {"cover", " with in "},
        {"decorat", " with "},         {"surround", " with by "},   {"paint", " with in "},
        {"sprinkl", " with on over "},
    };
    static const char *const place[] = {"mov",   "shift",   "put",   "plac", "set",    "position", "add",
                                        "hang",  "hung",    "lay",   "laid", "drag",   "push",     "pull",
                                        "bring", "brought", "stack", "pil",  "arrang", "center",   "centre",
                                        "align", "insert",  "keep",  "kept"};
    static const char *const place_preps =
        " to into onto on in at from under behind beside near next above below inside outside between "
        "toward towards across along around atop over underneath beneath against ";
    char vb[32], pw[32], key[40];
    nps_token_lower(p->cap, &p->tok[v], vb, sizeof vb);
    nps_token_lower(p->cap, &p->tok[q], pw, sizeof pw);
    snprintf(key, sizeof key, " %s ", pw);
    /* an ongoing action takes the where/when of the event: "holding an umbrella in the rain" */
    if ((p->tok[v].flags & TF_ING) && strstr(" in at on from during into onto ", key)) return true;
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
        if (strncmp(vb, frames[i].stem, strlen(frames[i].stem)) == 0 && strstr(frames[i].preps, key)) return true;
    for (size_t i = 0; i < sizeof place / sizeof place[0]; i++)
        if (strncmp(vb, place[i], strlen(place[i])) == 0 && strstr(place_preps, key)) return true;
    return false;
}

/* Prepositions that commonly head a noun's modifier ("a table with drawers"). */
static bool noun_prep(const parser *p, int q) {
    static const char *const ok[] = {"of",      "with",   "without", "in",         "on",      "at",      "near",
                                     "beside",  "behind", "under",   "underneath", "above",   "below",   "over",
                                     "between", "among",  "from",    "for",        "inside",  "outside", "across",
                                     "along",   "around", "atop",    "like",       "beneath", "within",  "about",
                                     "against", "by",     "onto",    "into",       "down"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (is_word(p, q, ok[i])) return true;
    return false;
}

static int parse_coord(parser *p, int i, int *end, np_ctx ctx);

/* A noun phrase with its attachments at i. */
static void parse_clause(parser *p, int from);

/* A relative clause starts at i: "that is brown", "which she drew", "who wears a hat". */
static bool relative_at(const parser *p, int i) {
    if (tag_at(p, i) != NPS_WH) return false;
    if (!(is_word(p, i, "that") || is_word(p, i, "which") || is_word(p, i, "who") || is_word(p, i, "whom") ||
          is_word(p, i, "whose") || is_word(p, i, "where")))
        return false;
    nps_tag u = tag_at(p, i + 1);
    return u == NPS_VERB || u == NPS_AUX || u == NPS_MODAL || u == NPS_ADV || u == NPS_PART || u == NPS_PRON ||
           u == NPS_DET || u == NPS_POSSDET || u == NPS_PROPN;
}

static int parse_np_at(parser *p, int i, int *end, np_ctx ctx);

static int parse_np(parser *p, int i, int *end, np_ctx ctx) {
    p->nest++;
    int node = parse_np_at(p, i, end, ctx);
    p->nest--;
    return node;
}

static int parse_np_at(parser *p, int i, int *end, np_ctx ctx) {
    int j, node = parse_base(p, i, &j);
    if (node < 0) return -1;
    bool pronoun = tag_at(p, i) == NPS_PRON || tag_at(p, i) == NPS_EX;
    if (p->nest > NPS_MAX_NEST) {
        *end = j;
        return node;
    }
    bool pp_done = false;
    for (;;) {
        /* prepositional attachment, also "next to", "right behind" */
        int q = pp_done ? -1 : j;
        if (tag_at(p, q) == NPS_ADV &&
            (is_word(p, q, "next") || is_word(p, q, "right") || is_word(p, q, "close") || is_word(p, q, "directly") ||
             is_word(p, q, "just")) &&
            tag_at(p, q + 1) == NPS_PREP)
            q++;
        bool multi = q > j;
        bool of = is_word(p, q, "of");
        if (!pp_done && tag_at(p, q) == NPS_PREP && (noun_prep(p, q) || (multi && is_word(p, q, "to"))) &&
            !(pronoun && !of) && !(ctx.in_of && !of) && !verb_frame(p, ctx.verb, multi ? j : q) &&
            !verb_frame(p, ctx.verb, q) && np_start(p, q + 1)) {
            int e, obj = parse_coord(p, q + 1, &e, (np_ctx){ctx.verb, of, !of});
            if (obj >= 0) {
                int outer = add_node(p, i, e - 1);
                adopt(p, outer, node, 1);
                adopt(p, outer, obj, multi ? 3 : 2); /* NP > (ADVP >) PP > NP */
                node = outer;
                j = e;
                /* "a plate of pasta | next to a glass": after an of-phrase, further phrases
                 * attach to the whole; otherwise the object took them (right-branching) */
                if (of && !ctx.in_of) continue;
                pp_done = true;
                continue;
            }
        }
        /* participial modifier: "a man holding a cup", "a cake covered in cream" */
        int v = j;
        const nps_token *vt = v < p->n ? &p->tok[v] : NULL;
        if (!pronoun && !ctx.in_pp && vt && vt->tag == NPS_VERB && nominal(tag_at(p, v - 1)) &&
            ((vt->flags & TF_ING) || ((vt->flags & TF_ED) && tag_at(p, v + 1) == NPS_PREP))) {
            int e = v + 1, obj = -1, pobj = -1;
            if (tag_at(p, e) == NPS_ADV && tag_at(p, e + 1) != NPS_ADJ) e++;
            if (np_start(p, e) && tag_at(p, e) != NPS_ADJ) obj = parse_coord(p, e, &e, (np_ctx){v, false, false});
            if (tag_at(p, e) == NPS_PREP && np_start(p, e + 1)) {
                int e2;
                pobj = parse_coord(p, e + 1, &e2, (np_ctx){-1, false, false});
                if (pobj >= 0) e = e2;
            }
            if (obj >= 0 || pobj >= 0 || e > v + 1) {
                int outer = add_node(p, i, e - 1);
                adopt(p, outer, node, 1);
                adopt(p, outer, obj, 2);
                adopt(p, outer, pobj, 3);
                node = outer;
                j = e;
            }
        }
        /* relative clause, up to the next punctuation (or the governing verb's preposition):
         * "the dog that is sitting on the sofa" */
        if (!pronoun && relative_at(p, j)) {
            int k = j + 1;
            while (k < p->n && !(p->tok[k].tag == NPS_PUNCT && !is_word(p, k, "'") && !is_word(p, k, "-")) &&
                   !(p->tok[k].tag == NPS_PREP && verb_frame(p, ctx.verb, k)))
                k++;
            int saved_n = p->n, first_new = p->count;
            p->n = k;
            parse_clause(p, j + 1);
            p->n = saved_n;
            int outer = add_node(p, i, k - 1);
            for (int q = first_new; outer >= 0 && q < outer; q++)
                if (p->nodes[q].parent < 0) adopt(p, outer, q, p->nodes[q].depth + 1); /* NP > SBAR > S > ... */
            adopt(p, outer, node, 1);
            if (outer >= 0) node = outer;
            j = k;
        }
        break;
    }
    *end = j;
    return node;
}

static bool is_conj(const parser *p, int i) {
    return tag_at(p, i) == NPS_CONJ && (is_word(p, i, "and") || is_word(p, i, "or") || is_word(p, i, "&"));
}

static int parse_coord(parser *p, int i, int *end, np_ctx ctx) {
    int j, first = parse_np(p, i, &j, ctx);
    if (first < 0) return -1;
    int parts[64], starts[64], np = 0; /* starts: node count before each part was parsed */
    starts[np] = 0;
    parts[np++] = first;
    while (np < 64) {
        int k = j;
        if (is_conj(p, k) || (is_word(p, k, ",") && is_conj(p, k + 1))) {
            k += is_conj(p, k) ? 1 : 2;
            if (!np_start(p, k) || tag_at(p, k) == NPS_PRON) break;
            int saved = p->count, e, c = parse_np(p, k, &e, ctx);
            if (c < 0) break;
            starts[np] = saved;
            parts[np++] = c;
            j = e;
            continue;
        }
        if (is_word(p, k, ",") && np_start(p, k + 1) && tag_at(p, k + 1) != NPS_PRON) {
            /* a list "a, b and c": keep the comma part only if a conjunction follows */
            int saved = p->count, e, c = parse_np(p, k + 1, &e, ctx);
            if (c >= 0 && (is_conj(p, e) || (is_word(p, e, ",") && (is_conj(p, e + 1) || np_start(p, e + 1))))) {
                starts[np] = saved;
                parts[np++] = c;
                j = e;
                continue;
            }
            p->count = saved;
        }
        break;
    }
    /* a trailing list piece without its conjunction was taken speculatively: drop it */
    while (np > 1 && !is_conj(p, p->nodes[parts[np - 1]].first - 1) && !is_conj(p, p->nodes[parts[np - 1]].first - 2)) {
        p->count = starts[np - 1];
        j = p->nodes[parts[np - 2]].last + 1;
        np--;
    }
    *end = j;
    if (np == 1) return first;
    int outer = add_node(p, i, j - 1);
    for (int k = 0; k < np; k++) adopt(p, outer, parts[k], 1);
    return outer;
}

/* Verbs whose object can be the subject of a small clause ("make the sky darker"). */
static bool small_clause_verb(const parser *p, int v) {
    static const char *const stems[] = {"mak",  "made", "let", "hav", "has",  "had", "keep", "kept",
                                        "leav", "left", "get", "got", "help", "see", "saw",  "watch"};
    char vb[32];
    nps_token_lower(p->cap, &p->tok[v], vb, sizeof vb);
    for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++)
        if (strncmp(vb, stems[i], strlen(stems[i])) == 0) return true;
    return false;
}

/* The clause-level pass from token `from` to p->n: finds the top-level noun phrases and
 * gives each its depth (subject 2, one more per verb or auxiliary, one more inside a PP). */
static void parse_clause(parser *p, int from) {
    const nps_token *tok = p->tok;
    nps_node *nodes = p->nodes;
    int n = p->n;
    int level = 2, chain_base = 2, verb = -1, last_depth = -1, forced = -1;
    bool pp = false, saw_verb = false;
    int i = from;
    while (i < n) {
        nps_tag t = tok[i].tag;
        if (np_start(p, i) || t == NPS_EX) {
            bool direct = verb >= 0 && !pp && (i == verb + 1 || (i == verb + 2 && tok[verb + 1].tag == NPS_ADV));
            int j, node = parse_coord(p, i, &j, (np_ctx){direct ? verb : -1, false, false});
            if (node >= 0) {
                /* "make the dog sit", "make the sky darker": the object is the subject of a
                 * small clause, one level deeper */
                bool small =
                    direct && small_clause_verb(p, verb) && (tag_at(p, j) == NPS_ADJ || tag_at(p, j) == NPS_VERB);
                nodes[node].depth = forced >= 0 ? forced : level + (pp ? 1 : 0) + (small ? 1 : 0);
                last_depth = nodes[node].depth;
                forced = -1;
                nodes[node].rel = 0;
                i = j;
                pp = false;
                continue;
            }
        }
        if (t == NPS_VERB || t == NPS_AUX || t == NPS_MODAL || t == NPS_TO) {
            if (!saw_verb) chain_base = level;
            saw_verb = true;
            level++;
            if (t == NPS_VERB) verb = i;
            pp = false;
        } else if (t == NPS_PREP) {
            pp = true;
        } else if (t == NPS_CONJ) {
            nps_tag u = tag_at(p, i + 1);
            if (u == NPS_VERB || u == NPS_AUX || u == NPS_MODAL) {
                level = chain_base; /* coordinated verb phrases */
            } else if (np_start(p, i + 1) || u == NPS_EX) {
                int k = i + 1;
                while (k < n && tok[k].tag != NPS_PUNCT && tok[k].tag != NPS_CONJ && tok[k].tag != NPS_VERB &&
                       tok[k].tag != NPS_AUX && tok[k].tag != NPS_MODAL)
                    k++;
                if (tag_at(p, k) == NPS_VERB || tag_at(p, k) == NPS_AUX || tag_at(p, k) == NPS_MODAL) {
                    level = chain_base = 2; /* a new clause with its own subject */
                    saw_verb = false;
                    verb = -1;
                } else if (last_depth >= 0) {
                    forced = last_depth; /* "make the horse brown and the rider older" */
                }
            }
            pp = false;
        } else if (t == NPS_PUNCT &&
                   (is_word(p, i, ".") || is_word(p, i, ";") || is_word(p, i, "!") || is_word(p, i, "?"))) {
            level = chain_base = 2;
            saw_verb = false;
            verb = -1;
            pp = false;
        } else if (t == NPS_WH || t == NPS_SUB) {
            level++;
            verb = -1;
            pp = false;
        }
        i++;
    }
}

int nps_parse(const char *caption, const nps_token *tok, int n, nps_node *nodes, int cap) {
    parser p = {caption, tok, n, nodes, cap, 0, 0};
    parse_clause(&p, 0);
    /* absolute depths: a parent is always created after its children */
    for (int k = p.count - 1; k >= 0; k--)
        if (nodes[k].parent >= 0) nodes[k].depth = nodes[nodes[k].parent].depth + nodes[k].rel;
    return p.count;
}
