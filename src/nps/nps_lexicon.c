/* The extractor's lexicon: closed-class words and common open-class words, by class.
 *
 * Written for ctcir by hand (no treebank or tagged corpus was used). Each list is sorted by
 * byte value (strcmp order) because lookups are binary searches; tests/test_nps.c checks
 * it. A word may appear in several lists; its class mask is the union. Inflected forms of
 * listed nouns, verbs and adjectives are found by nps_tag.c's morphology, so only base forms
 * (and irregular forms, in lx_past) are listed. */
#include <stdlib.h>
#include <string.h>

#include "nps/nps_internal.h"

static const char *const lx_noun[] = {
    "adult",      "afternoon",  "agency",       "airplane",  "airport",   "amount",     "analyst",    "angle",
    "animal",     "answer",     "apple",        "arch",      "area",      "arm",        "audience",   "autumn",
    "baby",       "back",       "background",   "backpack",  "bag",       "balcony",    "ball",       "balloon",
    "banana",     "bank",       "banner",       "bar",       "bark",      "basket",     "bat",        "bathroom",
    "bathtub",    "beach",      "bear",         "beard",     "bed",       "bedroom",    "bee",        "beer",
    "belt",       "bench",      "bicycle",      "bike",      "bird",      "bit",        "blanket",    "blouse",
    "board",      "boat",       "body",         "bond",      "book",      "bookshelf",  "boot",       "bottle",
    "bottom",     "bowl",       "box",          "boy",       "bracelet",  "branch",     "bread",      "brick",
    "bridge",     "building",   "burger",       "bus",       "bush",      "business",   "butterfly",  "button",
    "cabinet",    "cafe",       "cake",         "camera",    "can",       "candle",     "cap",        "car",
    "carpet",     "case",       "castle",       "cat",       "ceiling",   "cent",       "center",     "centre",
    "chair",      "chairman",   "change",       "checker",   "chef",      "chicken",    "child",      "children",
    "chimney",    "church",     "circle",       "city",      "client",    "clock",      "cloud",      "coat",
    "coffee",     "collar",     "color",        "colour",    "column",    "committee",  "company",    "computer",
    "concrete",   "cone",       "contract",     "copy",      "corner",    "cost",       "cotton",     "couch",
    "counter",    "country",    "couple",       "court",     "cow",       "crowd",      "cube",       "cup",
    "curtain",    "cushion",    "customer",     "cylinder",  "day",       "deal",       "death",      "debt",
    "decline",    "decoration", "deer",         "demand",    "denim",     "depth",      "desert",     "design",
    "desk",       "detail",     "diamond",      "direction", "director",  "dirt",       "dish",       "distance",
    "doctor",     "dog",        "dogs",         "doll",      "dollar",    "door",       "dot",        "drawer",
    "drawing",    "dress",      "drink",        "driver",    "duck",      "duplicate",  "ear",        "earring",
    "edge",       "effect",     "element",      "elephant",  "end",       "energy",     "evening",    "executive",
    "eye",        "fabric",     "face",         "fact",      "fall",      "family",     "fan",        "farm",
    "feature",    "feet",       "fence",        "field",     "finger",    "firm",       "fish",       "fit",
    "flag",       "floor",      "flower",       "food",      "foot",      "foreground", "forest",     "fork",
    "fountain",   "frame",      "fridge",       "friend",    "fries",     "frog",       "front",      "fruit",
    "fry",        "fund",       "fur",          "game",      "garden",    "gas",        "gate",       "gentleman",
    "gift",       "giraffe",    "girl",         "glass",     "glasses",   "glove",      "government", "grape",
    "graphic",    "grass",      "grid",         "ground",    "group",     "growth",     "guy",        "hair",
    "half",       "hand",       "hat",          "head",      "health",    "heart",      "hedge",      "heel",
    "height",     "helmet",     "hem",          "hexagon",   "hill",      "home",       "hood",       "hoodie",
    "horse",      "hospital",   "hotel",        "hour",      "house",     "hydrant",    "idea",       "image",
    "income",     "increase",   "industry",     "infant",    "insect",    "instance",   "interest",   "investor",
    "island",     "issue",      "item",         "jacket",    "jar",       "jeans",      "jewelry",    "juice",
    "jungle",     "keyboard",   "kid",          "kind",      "kitchen",   "kite",       "kitten",     "knife",
    "lace",       "lady",       "lake",         "lamp",      "laptop",    "law",        "lawn",       "leaf",
    "leather",    "left",       "leg",          "length",    "level",     "library",    "life",       "light",
    "line",       "lion",       "location",     "logo",      "look",      "loss",       "lot",        "luggage",
    "magazine",   "majority",   "man",          "manager",   "marble",    "market",     "match",      "material",
    "meal",       "member",     "men",          "metal",     "microwave", "middle",     "milk",       "minute",
    "mirror",     "moment",     "money",        "monitor",   "monkey",    "month",      "moon",       "morning",
    "motorcycle", "mountain",   "mouse",        "mouth",     "mud",       "museum",     "mustache",   "nation",
    "neck",       "necklace",   "neckline",     "news",      "newspaper", "night",      "nose",       "number",
    "object",     "ocean",      "office",       "officer",   "official",  "oil",        "orange",     "ornament",
    "oval",       "oven",       "painting",     "pair",      "pan",       "pants",      "paper",      "park",
    "part",       "pattern",    "paw",          "pen",       "pencil",    "pentagon",   "people",     "percent",
    "person",     "pet",        "petal",        "phone",     "photo",     "photograph", "picture",    "piece",
    "pig",        "pillar",     "pillow",       "pizza",     "place",     "plan",       "plane",      "plant",
    "plastic",    "plate",      "player",       "pocket",    "point",     "pole",       "police",     "pool",
    "porch",      "position",   "poster",       "pot",       "power",     "present",    "president",  "price",
    "print",      "problem",    "product",      "profit",    "program",   "puppy",      "purse",      "quarter",
    "question",   "rabbit",     "race",         "racket",    "rain",      "range",      "rat",        "rate",
    "reason",     "rectangle",  "refrigerator", "region",    "report",    "rest",       "restaurant", "result",
    "rider",      "right",      "ring",         "river",     "road",      "rock",       "roof",       "room",
    "root",       "rug",        "salad",        "sale",      "sales",     "sand",       "sandal",     "sandwich",
    "scarf",      "scene",      "school",       "screen",    "sculpture", "sea",        "season",     "service",
    "set",        "shade",      "shape",        "share",     "sheep",     "shelf",      "ship",       "shirt",
    "shoe",       "shop",       "shorts",       "shot",      "shoulder",  "shower",     "side",       "sidewalk",
    "sign",       "signal",     "silk",         "sink",      "size",      "skin",       "skirt",      "sky",
    "sleeve",     "snake",      "sneaker",      "snow",      "sock",      "soda",       "sofa",       "soldier",
    "sort",       "space",      "sphere",       "spider",    "spoon",     "sport",      "spot",       "spring",
    "square",     "stair",      "staircase",    "stake",     "star",      "state",      "station",    "statue",
    "stem",       "step",       "stock",        "stone",     "store",     "story",      "stove",      "strap",
    "street",     "stripe",     "student",      "stuff",     "stuffed",   "style",      "suitcase",   "summer",
    "sun",        "sunglasses", "supply",       "surface",   "sweater",   "system",     "t-shirt",    "table",
    "tail",       "tank",       "tax",          "tea",       "team",      "teddy",      "teenager",   "teeth",
    "television", "tent",       "texture",      "thing",     "tie",       "tiger",      "tile",       "time",
    "toddler",    "toilet",     "tooth",        "top",       "towel",     "tower",      "town",       "toy",
    "trade",      "trading",    "traffic",      "train",     "tray",      "tree",       "triangle",   "trousers",
    "truck",      "trunk",      "tshirt",       "turtle",    "tv",        "type",       "umbrella",   "value",
    "variety",    "vase",       "vegetable",    "version",   "vest",      "view",       "village",    "vine",
    "waist",      "wall",       "wallet",       "war",       "watch",     "water",      "way",        "week",
    "weekend",    "width",      "window",       "wine",      "wing",      "winter",     "woman",      "women",
    "wood",       "wool",       "worker",       "world",     "yard",      "year",       "yen",        "zebra",
    "zipper",     "zoo",
};

static const char *const lx_verb[] = {
    "accept",   "add",       "adjust",    "affect",    "agree",     "align",    "allow",    "alter",   "angle",
    "announce", "appear",    "appoint",   "approve",   "argue",     "arrange",  "arrive",   "ask",     "attack",
    "bake",     "become",    "begin",     "believe",   "blur",      "borrow",   "brighten", "bring",   "build",
    "buy",      "call",      "carry",     "catch",     "cause",     "center",   "centre",   "change",  "charge",
    "claim",    "clean",     "clear",     "climb",     "close",     "color",    "colour",   "come",    "consider",
    "contain",  "continue",  "convert",   "cook",      "copy",      "cost",     "cover",    "create",  "crop",
    "cross",    "crowd",     "cut",       "darken",    "decide",    "decorate", "decrease", "defend",  "delete",
    "depart",   "depict",    "describe",  "develop",   "die",       "display",  "dot",      "double",  "draw",
    "dress",    "drink",     "drive",     "drop",      "duplicate", "earn",     "eat",      "edit",    "elect",
    "empty",    "end",       "enhance",   "enlarge",   "enter",     "erase",    "exist",    "exit",    "expect",
    "explain",  "expose",    "face",      "fall",      "feature",   "feel",     "fight",    "fill",    "fire",
    "fit",      "fix",       "flip",      "fly",       "focus",     "fold",     "follow",   "frame",   "fry",
    "fund",     "gather",    "get",       "give",      "go",        "grill",    "grow",     "hang",    "happen",
    "hate",     "help",      "hide",      "highlight", "hire",      "hit",      "hold",     "improve", "include",
    "increase", "invert",    "invest",    "involve",   "join",      "jump",     "keep",     "kick",    "kill",
    "know",     "laugh",     "lay",       "lead",      "lean",      "leave",    "lend",     "let",     "lie",
    "lighten",  "like",      "line",      "live",      "lock",      "look",     "lose",     "love",    "lower",
    "make",     "manage",    "match",     "meet",      "mention",   "mirror",   "miss",     "modify",  "move",
    "multiply", "name",      "need",      "note",      "occur",     "offer",    "open",     "operate", "oppose",
    "overlap",  "owe",       "own",       "paint",     "park",      "pass",     "pattern",  "pay",     "pile",
    "place",    "plan",      "play",      "point",     "portray",   "position", "pour",     "prevent", "print",
    "produce",  "propose",   "protect",   "provide",   "pull",      "push",     "put",      "raise",   "reach",
    "read",     "receive",   "recommend", "reduce",    "reject",    "remain",   "remove",   "replace", "report",
    "require",  "resign",    "resize",    "rest",      "retire",    "return",   "reveal",   "ride",    "rise",
    "rotate",   "run",       "save",      "say",       "scatter",   "see",      "seem",     "sell",    "send",
    "serve",    "set",       "shade",     "sharpen",   "shift",     "show",     "shrink",   "shut",    "sign",
    "sing",     "sit",       "sleep",     "smile",     "sound",     "spend",    "sprinkle", "stack",   "stand",
    "start",    "stay",      "stop",      "stripe",    "suggest",   "support",  "surround", "swap",    "swim",
    "switch",   "take",      "talk",      "tell",      "think",     "throw",    "tie",      "tilt",    "tint",
    "trade",    "transform", "travel",    "triple",    "try",       "turn",     "unlock",   "update",  "use",
    "visit",    "wait",      "walk",      "want",      "wash",      "watch",    "wear",     "win",     "wrap",
    "write",    "zoom",
};

static const char *const lx_adj[] = {
    "able",          "abstract",      "additional", "adjacent",    "adorable",    "african",     "alive",
    "american",      "analog",        "angry",      "annual",      "aqua",        "artificial",  "asian",
    "asleep",        "automatic",     "available",  "average",     "awake",       "back",        "bad",
    "baggy",         "bald",          "basic",      "beautiful",   "beige",       "big",         "black",
    "blond",         "blonde",        "blue",       "bold",        "boring",      "bottom",      "brick",
    "bright",        "british",       "broad",      "broken",      "brown",       "burgundy",    "busy",
    "calm",          "cartoon",       "casual",     "central",     "ceramic",     "certain",     "cheap",
    "checked",       "checkered",     "chief",      "chinese",     "chubby",      "circular",    "classic",
    "clean",         "clear",         "close",      "closed",      "cloudy",      "cold",        "colored",
    "colorful",      "coloured",      "colourful",  "commercial",  "common",      "complex",     "concrete",
    "cool",          "coral",         "corporate",  "correct",     "cotton",      "cream",       "crimson",
    "cropped",       "crowded",       "cubic",      "curly",       "current",     "curved",      "curvy",
    "cute",          "cyan",          "damaged",    "dark",        "dead",        "deep",        "denim",
    "dense",         "diagonal",      "different",  "difficult",   "digital",     "dim",         "dirty",
    "distant",       "domestic",      "dotted",     "double",      "dry",         "early",       "easy",
    "economic",      "eighth",        "electric",   "electronic",  "elegant",     "embroidered", "empty",
    "english",       "enormous",      "entire",     "european",    "expensive",   "extra",       "fabric",
    "faded",         "false",         "famous",     "fancy",       "far",         "fast",        "fat",
    "favorite",      "favourite",     "federal",    "few",         "fewer",       "fifth",       "final",
    "financial",     "fine",          "first",      "fitted",      "flat",        "floral",      "flowing",
    "flowy",         "fluffy",        "foggy",      "foreign",     "formal",      "former",      "fourth",
    "framed",        "free",          "french",     "fresh",       "front",       "full",        "funny",
    "fur",           "furry",         "future",     "fuzzy",       "general",     "german",      "giant",
    "glass",         "glittery",      "glossy",     "gold",        "golden",      "good",        "gorgeous",
    "graphic",       "gray",          "great",      "green",       "grey",        "happy",       "hard",
    "heavy",         "hexagonal",     "hidden",     "high",        "horizontal",  "hot",         "huge",
    "human",         "identical",     "important",  "indigo",      "indoor",      "industrial",  "inner",
    "interesting",   "international", "invisible",  "iron",        "ivory",       "japanese",    "junior",
    "key",           "khaki",         "knit",       "knitted",     "lace",        "large",       "last",
    "late",          "latest",        "lavender",   "lean",        "least",       "leather",     "left",
    "legal",         "less",          "light",      "likely",      "lime",        "linen",       "lit",
    "little",        "live",          "local",      "long",        "loose",       "lovely",      "low",
    "lower",         "magenta",       "main",       "major",       "manual",      "many",        "marble",
    "maroon",        "massive",       "matte",      "mechanical",  "medical",     "medium",      "messy",
    "metal",         "metallic",      "middle",     "military",    "mini",        "minimal",     "minimalist",
    "minor",         "mint",          "modern",     "modest",      "more",        "most",        "multicolored",
    "multicoloured", "muscular",      "muted",      "narrow",      "national",    "natural",     "navy",
    "near",          "nearby",        "neat",       "neon",        "net",         "new",         "next",
    "nice",          "ninth",         "noisy",      "normal",      "nylon",       "odd",         "official",
    "old",           "olive",         "only",       "opaque",      "open",        "opposite",    "orange",
    "other",         "outdoor",       "outer",      "oval",        "own",         "pale",        "paper",
    "parallel",      "particular",    "past",       "pastel",      "patterned",   "peach",       "petite",
    "pink",          "plaid",         "plain",      "plastic",     "pleated",     "pointed",     "political",
    "polka",         "poor",          "popular",    "possible",    "present",     "pretty",      "previous",
    "primary",       "printed",       "private",    "proper",      "public",      "purple",      "quiet",
    "rainy",         "real",          "realistic",  "recent",      "rectangular", "red",         "regular",
    "retro",         "revealing",     "rich",       "right",       "rough",       "round",       "rubber",
    "ruffled",       "sad",           "same",       "satin",       "scarlet",     "second",      "secondary",
    "senior",        "serious",       "seventh",    "several",     "sexy",        "shaded",      "shady",
    "shallow",       "sheer",         "shiny",      "short",       "sideways",    "significant", "silk",
    "silver",        "similar",       "simple",     "single",      "sixth",       "skinny",      "sleeveless",
    "slender",       "slim",          "slow",       "small",       "smooth",      "snowy",       "social",
    "soft",          "solid",         "sparkling",  "sparkly",     "sparse",      "special",     "spherical",
    "sporty",        "spotted",       "square",     "standard",    "steel",       "stone",       "straight",
    "strange",       "strapless",     "striped",    "strong",      "stylish",     "subtle",      "suede",
    "sunlit",        "sunny",         "sure",       "surrounding", "tall",        "tame",        "tan",
    "teal",          "tenth",         "textured",   "thick",       "thin",        "third",       "tidy",
    "tight",         "tiny",          "top",        "torn",        "total",       "traditional", "transparent",
    "trendy",        "triangular",    "true",       "turquoise",   "typical",     "ugly",        "unusual",
    "upper",         "upright",       "usual",      "various",     "vast",        "velvet",      "vertical",
    "vibrant",       "vintage",       "violet",     "visible",     "vivid",       "warm",        "wavy",
    "weak",          "weird",         "wet",        "white",       "whole",       "wide",        "wild",
    "wireless",      "wooden",        "wool",       "woolen",      "woollen",     "worn",        "wrong",
    "yellow",        "young",
};

static const char *const lx_adv[] = {
    "about",      "above",     "abroad",     "actually",  "again",      "ago",       "ahead",         "almost",
    "alone",      "already",   "also",       "always",    "anyway",     "apart",     "approximately", "around",
    "aside",      "away",      "back",       "backward",  "backwards",  "behind",    "below",         "certainly",
    "close",      "closer",    "completely", "currently", "directly",   "down",      "downward",      "downwards",
    "else",       "entirely",  "even",       "ever",      "exactly",    "extremely", "fairly",        "far",
    "farther",    "finally",   "forward",    "forwards",  "fully",      "further",   "here",          "highly",
    "home",       "however",   "indeed",     "inside",    "instead",    "just",      "lately",        "later",
    "least",      "left",      "less",       "mainly",    "maybe",      "meanwhile", "more",          "most",
    "mostly",     "much",      "nearly",     "never",     "now",        "off",       "often",         "once",
    "only",       "otherwise", "out",        "outside",   "over",       "partially", "partly",        "perhaps",
    "previously", "probably",  "quite",      "rarely",    "rather",     "really",    "recently",      "right",
    "roughly",    "sideways",  "simply",     "slightly",  "so",         "sometimes", "somewhat",      "soon",
    "still",      "straight",  "then",       "there",     "therefore",  "thrice",    "thus",          "today",
    "together",   "tomorrow",  "too",        "twice",     "underneath", "up",        "upside",        "upward",
    "upwards",    "usually",   "very",       "well",      "yesterday",  "yet",
};

static const char *const lx_prep[] = {
    "about",   "above",   "across",     "after",  "against", "along",   "alongside", "amid",       "among",
    "amongst", "around",  "as",         "at",     "atop",    "before",  "behind",    "below",      "beneath",
    "beside",  "besides", "between",    "beyond", "by",      "despite", "down",      "during",     "except",
    "for",     "from",    "in",         "inside", "into",    "like",    "near",      "of",         "off",
    "on",      "onto",    "opposite",   "out",    "outside", "over",    "past",      "per",        "since",
    "than",    "through", "throughout", "till",   "toward",  "towards", "under",     "underneath", "unlike",
    "until",   "up",      "upon",       "via",    "with",    "within",  "without",
};

static const char *const lx_det[] = {
    "a",     "all",  "an",    "another", "any",   "both", "each",  "either", "enough",   "every", "few",
    "fewer", "half", "least", "less",    "many",  "more", "most",  "much",   "neither",  "no",    "several",
    "some",  "such", "that",  "the",     "these", "this", "those", "what",   "whatever", "which",
};

static const char *const lx_pron[] = {
    "all",      "another",    "anybody",    "anyone",     "anything", "both",     "each",    "either",    "everybody",
    "everyone", "everything", "he",         "her",        "hers",     "herself",  "him",     "himself",   "i",
    "it",       "itself",     "me",         "mine",       "myself",   "neither",  "nobody",  "none",      "nothing",
    "one",      "ones",       "ours",       "ourselves",  "she",      "somebody", "someone", "something", "that",
    "theirs",   "them",       "themselves", "these",      "they",     "this",     "those",   "us",        "we",
    "you",      "yours",      "yourself",   "yourselves",
};

static const char *const lx_possdet[] = {
    "her", "his", "its", "my", "our", "their", "your",
};

static const char *const lx_num[] = {
    "billion",  "dozen",     "eight",    "eighteen", "eighty",  "eleven", "fifteen",  "fifty",    "five",
    "forty",    "four",      "fourteen", "hundred",  "million", "nine",   "nineteen", "ninety",   "one",
    "seven",    "seventeen", "seventy",  "six",      "sixteen", "sixty",  "ten",      "thirteen", "thirty",
    "thousand", "three",     "trillion", "twelve",   "twenty",  "two",    "zero",
};

static const char *const lx_conj[] = {
    "&", "and", "but", "nor", "or",
};

static const char *const lx_aux[] = {
    "'d",   "'m",  "'re", "'s",   "'ve",    "ai", "am",  "are",  "be", "been", "being", "did", "do",
    "does", "had", "has", "have", "having", "is", "was", "were", "’d", "’m",   "’re",   "’s",  "’ve",
};

static const char *const lx_modal[] = {
    "'ll", "ca", "can", "could", "may", "might", "must", "ought", "shall", "should", "will", "wo", "would", "’ll",
};

static const char *const lx_wh[] = {
    "how", "that", "what", "whatever", "when", "whenever", "where", "wherever", "which", "who", "whom", "whose", "why",
};

static const char *const lx_sub[] = {
    "although", "because", "if", "once", "so", "though", "unless", "whereas", "whether", "while",
};

static const char *const lx_pdet[] = {
    "all",
    "both",
    "half",
    "such",
};

static const char *const lx_part[] = {
    "n't",
    "not",
    "n’t",
};

static const char *const lx_past[] = {
    "ate",    "became", "began",   "begun",  "bent",      "bought", "broke",      "broken", "brought", "built",
    "caught", "chose",  "chosen",  "cut",    "dealt",     "did",    "done",       "drank",  "drawn",   "drew",
    "driven", "drove",  "drunk",   "dug",    "eaten",     "fallen", "fed",        "fell",   "felt",    "fled",
    "flew",   "flown",  "forgave", "forgot", "forgotten", "fought", "found",      "gave",   "given",   "gone",
    "got",    "gotten", "grew",    "grown",  "heard",     "held",   "hid",        "hidden", "hit",     "hung",
    "kept",   "knew",   "known",   "laid",   "lain",      "lay",    "led",        "left",   "lent",    "let",
    "lit",    "lost",   "made",    "meant",  "met",       "paid",   "put",        "ran",    "read",    "rid",
    "ridden", "risen",  "rode",    "rose",   "rung",      "said",   "sang",       "sank",   "sat",     "saw",
    "seen",   "sent",   "set",     "sewn",   "shone",     "shot",   "shown",      "shut",   "slept",   "slid",
    "sold",   "sought", "spent",   "spoke",  "spoken",    "spread", "spun",       "stole",  "stolen",  "stood",
    "struck", "stuck",  "sung",    "sunk",   "swam",      "swept",  "swung",      "taken",  "taught",  "thought",
    "threw",  "thrown", "told",    "took",   "tore",      "torn",   "understood", "went",   "wept",    "woke",
    "won",    "wore",   "worn",    "wound",  "written",   "wrote",
};

typedef struct {
    const char *const *words;
    size_t n;
    int mask;
} lx_list;

#define LIST(arr, m)                                                                                                   \
    { arr, sizeof arr / sizeof arr[0], m }
static const lx_list lists[] = {
    LIST(lx_noun, LX_NOUN),
    LIST(lx_verb, LX_VERB),
    LIST(lx_adj, LX_ADJ),
    LIST(lx_adv, LX_ADV),
    LIST(lx_prep, LX_PREP),
    LIST(lx_det, LX_DET),
    LIST(lx_pron, LX_PRON),
    LIST(lx_possdet, LX_POSSDET),
    LIST(lx_num, LX_NUM),
    LIST(lx_conj, LX_CONJ),
    LIST(lx_aux, LX_AUX),
    LIST(lx_modal, LX_MODAL),
    LIST(lx_wh, LX_WH),
    LIST(lx_sub, LX_SUB),
    LIST(lx_pdet, LX_PDET),
    LIST(lx_part, LX_PART),
    LIST(lx_past, LX_VERB | LX_PAST),
};
#undef LIST

static int cmp_word(const void *key, const void *elem) { return strcmp((const char *)key, *(const char *const *)elem); }

int nps_lexicon_lookup(const char *word) {
    int mask = 0;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (bsearch(word, lists[i].words, lists[i].n, sizeof(char *), cmp_word)) mask |= lists[i].mask;
    return mask;
}

bool nps_lexicon_sorted(const char **bad) {
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        for (size_t j = 1; j < lists[i].n; j++)
            if (strcmp(lists[i].words[j - 1], lists[i].words[j]) >= 0) {
                *bad = lists[i].words[j];
                return false;
            }
    return true;
}
