/* ctcir inspect: validates a safetensors file and lists its metadata and tensors. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/json_line.h"
#include "ctcir/safetensors.h"

static void print_shape(const ct_st_tensor *t, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < t->ndim && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, d ? ", %lld" : "%lld", (long long)t->shape[d]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

static int print_json(const ct_st_file *f, size_t total_bytes, size_t total_numel) {
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject(), *list = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "file", ct_st_path(f));
    cJSON_AddBoolToObject(root, "valid", 1);
    cJSON_AddNumberToObject(root, "count", ct_st_count(f));
    cJSON_AddNumberToObject(root, "numel", (double)total_numel);
    cJSON_AddNumberToObject(root, "data_bytes", (double)total_bytes);
    for (int i = 0; i < ct_st_metadata_count(f); i++) {
        const char *k, *v;
        ct_st_metadata_at(f, i, &k, &v);
        cJSON_AddStringToObject(meta, k, v);
    }
    cJSON_AddItemToObject(root, "metadata", meta);
    for (int i = 0; i < ct_st_count(f); i++) {
        const ct_st_tensor *t = ct_st_at(f, i);
        cJSON *o = cJSON_CreateObject(), *shape = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "dtype", ct_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        cJSON_AddItemToObject(o, "shape", shape);
        cJSON_AddNumberToObject(o, "numel", (double)t->numel);
        cJSON_AddNumberToObject(o, "bytes", (double)t->nbytes);
        cJSON_AddItemToArray(list, o);
    }
    cJSON_AddItemToObject(root, "tensors", list);
    char *text = ct_json_print(root, true);
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "ctcir inspect: out of memory\n");
        return CLI_RUNTIME;
    }
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}

static void print_table(const ct_st_file *f, size_t total_bytes, size_t total_numel) {
    printf("file: %s\n", ct_st_path(f));
    printf("valid: yes, %d tensors, %zu elements, %zu data bytes\n", ct_st_count(f), total_numel, total_bytes);
    if (ct_st_metadata_count(f)) printf("metadata:\n");
    for (int i = 0; i < ct_st_metadata_count(f); i++) {
        const char *k, *v;
        ct_st_metadata_at(f, i, &k, &v);
        printf("  %s = %s\n", k, v);
    }
    printf("%-60s %-5s %-20s %12s %12s\n", "tensor", "dtype", "shape", "numel", "bytes");
    for (int i = 0; i < ct_st_count(f); i++) {
        const ct_st_tensor *t = ct_st_at(f, i);
        char shape[256];
        print_shape(t, shape, sizeof shape);
        printf("%-60s %-5s %-20s %12zu %12zu\n", t->name, ct_dtype_name(t->dtype), shape, t->numel, t->nbytes);
    }
}

int cmd_inspect(int argc, char **argv) {
    bool json = false;
    const cli_opt opts[] = {{"json", 0, CLI_FLAG, &json, NULL, "print one JSON object on stdout instead of a table"},
                            {0}};
    const cli_cmd cmd = {"inspect",
                         "usage: ctcir inspect FILE.safetensors [--json]\n\n"
                         "Validates FILE (header, offsets, sizes, coverage) and lists its metadata and tensors\n"
                         "(name, dtype, shape, element count, bytes). Exit 0 if valid, 1 if not.\n",
                         opts,
                         NULL,
                         1,
                         "FILE"};
    cli_list pos = {0};
    int rc = cli_parse(&cmd, argc, argv, &pos);
    if (rc == CLI_PARSED && pos.n != 1) rc = cli_usage_error("inspect", "expected exactly one FILE.safetensors");
    if (rc != CLI_PARSED) {
        cli_list_free(&pos);
        return rc;
    }
    ct_st_file *f;
    ct_status s = ct_st_open(&f, pos.v[0]);
    cli_list_free(&pos);
    if (s) return cli_fail("inspect", s);
    size_t total_bytes = 0, total_numel = 0;
    for (int i = 0; i < ct_st_count(f); i++) {
        total_bytes += ct_st_at(f, i)->nbytes;
        total_numel += ct_st_at(f, i)->numel;
    }
    rc = CLI_OK;
    if (json)
        rc = print_json(f, total_bytes, total_numel);
    else
        print_table(f, total_bytes, total_numel);
    ct_st_close(f);
    return rc;
}
