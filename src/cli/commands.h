/* The table of subcommands. Each lives in its own file src/cli/cmd_<name>.c and defines
 * `int cmd_<name>(int argc, char **argv)` (argv[0] is the command name). A command given
 * `--help` prints its usage on stdout and returns 0. Exit codes: 0 ok, 1 runtime error,
 * 2 usage error. Add a command with one line here. */
#ifndef CTCIR_CLI_COMMANDS_H
#define CTCIR_CLI_COMMANDS_H

#define CTCIR_COMMANDS(X)                                                                                              \
    X(version, "print the version")                                                                                    \
    X(inspect, "validate a .safetensors file and list its tensors and metadata")                                       \
    X(tokenize, "texts (JSON strings, one per line) -> CLIP token ids")                                                \
    X(synth_shapes, "generate the synthetic shapes CIR benchmark (images + manifests)")                                \
    X(encode, "CLIP image/text embeddings (and intermediates, gradients) to safetensors")                              \
    X(nps, "noun phrases of captions (JSON lines in, JSON arrays out)")                                                \
    X(train, "train a ConText-CIR model (fusion, pooling, both losses, AdamW)")                                        \
    X(index, "embed a gallery into an index file (resumable, sharded); index merge joins shards")                      \
    X(query, "top-k gallery images for one (image, text) query")                                                       \
    X(eval, "Recall@K, Recall_subset@K, mAP@K on CIRR/CIRCO/FashionIQ/LaSCo/manifest; server files")                   \
    X(bpe_train, "learn a CLIP-format BPE vocabulary from captions")                                                   \
    X(init, "a randomly initialised CLIP folder (HF layout) to train from scratch")                                    \
    X(explain, "query image + one attention heat map per noun phrase (PNG) and spans (JSON)")                          \
    X(bench, "throughput, memory and GFLOP/s of towers, training step, index, top-k (random weights)")                 \
    X(caption_pairs, "good4cir difference captions for image pairs from an OpenAI-compatible server")                  \
    X(datasets, "check a local dataset copy (images, duplicates, published counts); build CIRR from NLVR2")

#define X(name, summary) int cmd_##name(int argc, char **argv);
CTCIR_COMMANDS(X)
#undef X

#endif
