/* safetensors reader/writer: hand-built hostile files (each must fail with a message naming
 * the file and the problem), exact dtype conversions, writer round trips and atomicity,
 * and the real parity files. */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "ctcir/safetensors.h"
#include "test_util.h"

static char tmpdir[] = "/tmp/ctcir_st_XXXXXX";

static void tmp_path(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", tmpdir, name); }

/* Writes: 8-byte length of `header`, header, then ndata bytes of data. */
static void write_raw(const char *path, const char *header, const void *data, size_t ndata) {
    FILE *fp = fopen(path, "wb");
    uint64_t n = strlen(header);
    for (int i = 0; i < 8; i++) fputc((int)(n >> (8 * i)) & 0xff, fp);
    fwrite(header, 1, n, fp);
    if (ndata) fwrite(data, 1, ndata, fp);
    fclose(fp);
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (n) fwrite(data, 1, n, fp);
    fclose(fp);
}

/* Opens `path`, which must fail with a message naming the file and containing `want`. */
static void expect_fail_file(const char *label, const char *path, const char *want) {
    ct_st_file *f = (ct_st_file *)0x1;
    ct_error_clear();
    ct_status s = ct_st_open(&f, path);
    CHECK_MSG(s != CT_OK, "%s: opened a bad file", label);
    CHECK_MSG(f == NULL, "%s: handle not NULL on failure", label);
    CHECK_MSG(strstr(ct_error(), path) != NULL, "%s: message does not name the file: %s", label, ct_error());
    CHECK_MSG(strstr(ct_error(), want) != NULL, "%s: message lacks '%s': %s", label, want, ct_error());
    if (s == CT_OK) ct_st_close(f);
}

/* Writes a file from a header and `ndata` zero bytes of data, then expects failure. */
static void expect_fail(const char *label, const char *header, size_t ndata, const char *want) {
    char path[256];
    static unsigned char zeros[4096];
    tmp_path(path, sizeof path, label);
    write_raw(path, header, zeros, ndata);
    expect_fail_file(label, path, want);
}

/* Writes n raw bytes to a file called `label`, then expects failure. */
static void expect_fail_bytes(const char *label, const char *bytes, size_t n, const char *want) {
    char path[256];
    tmp_path(path, sizeof path, label);
    write_bytes(path, bytes, n);
    expect_fail_file(label, path, want);
}

static ct_st_file *open_ok(const char *path) {
    ct_st_file *f = NULL;
    ct_status s = ct_st_open(&f, path);
    CHECK_MSG(s == CT_OK, "open %s: %s", path, ct_error());
    return s == CT_OK ? f : NULL;
}

static void test_hostile(void) {
    char path[256];
    /* Size field problems. */
    expect_fail_bytes("empty", "", 0, "empty file");
    expect_fail_bytes("short", "\x10\0\0\0\0", 5, "truncated");
    expect_fail_bytes("hdr_too_big", "\x40\0\0\0\0\0\0\0{}      ", 16, "larger than");
    expect_fail_bytes("hdr_absurd", "\0\0\0\0\0\x01\0\0{}      ", 16, "limit");
    expect_fail_bytes("hdr_absurd_max", "\xff\xff\xff\xff\xff\xff\xff\xff{}      ", 16, "limit");

    /* Header JSON problems. */
    expect_fail("not_json", "{\"a\": ", 0, "not valid JSON");
    expect_fail("not_object", "[1, 2]  ", 0, "not a JSON object");
    expect_fail("junk_after", "{} xyz  ", 0, "junk after");
    expect_fail_bytes("nul_in_hdr", "\x04\0\0\0\0\0\0\0{}\0 ", 12, "junk after");
    expect_fail("entry_number", "{\"a\": 5}", 0, "expected an object");
    expect_fail("entry_array", "{\"a\": [1]}", 0, "expected an object");

    /* Fields of an entry. */
    expect_fail("no_dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'dtype' is missing");
    expect_fail("dtype_number", "{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'dtype' is a number");
    expect_fail("dtype_unknown", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
                "unknown dtype 'F8_E4M3'");
    expect_fail("dtype_lower", "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype");
    expect_fail("no_shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "'shape' is missing");
    expect_fail("shape_string", "{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", 4,
                "'shape' is a string");
    expect_fail("shape_elem_string", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4,
                "shape[0] is a string");
    expect_fail("shape_negative", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}}", 4,
                "shape[1] = -1");
    expect_fail("shape_fraction", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
                "shape[0] = 1.5");
    expect_fail("shape_overflow",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4503599627370496,4503599627370496],\"data_offsets\":[0,4]}}", 4,
                "overflows");
    expect_fail("shape_huge", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1e300],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    expect_fail("shape_9d", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
                "9 dimensions");
    expect_fail("no_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "'data_offsets' is missing");
    expect_fail("offsets_3", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "wrong length");
    expect_fail("offsets_string", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4,
                "two non-negative integers");
    expect_fail("offsets_negative", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
                "two non-negative integers");
    expect_fail("dup_field", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                "duplicate key 'dtype'");

    /* Offsets against the data. */
    expect_fail("offsets_outside", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                "exceed the data size 4");
    expect_fail("offsets_far",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1000000000000,1000000000004]}}", 4,
                "exceed");
    expect_fail("begin_gt_end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "begin > end");
    expect_fail("size_mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "needs 8");
    expect_fail("size_mismatch_dtype", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                "needs 8");
    expect_fail("overlap",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12, "overlap");
    expect_fail("same_range",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                4, "overlap");
    expect_fail("gap",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                12, "gaps are not allowed");
    expect_fail("gap_start", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                "belong to no tensor");
    expect_fail("trailing", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12,
                "8 trailing data bytes");
    expect_fail("trailing_no_tensors", "{}", 4, "trailing");
    expect_fail("dup_name",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                8, "duplicate tensor name 'a'");

    /* Metadata. */
    expect_fail("meta_not_object", "{\"__metadata__\":[\"x\"]}", 0, "'__metadata__' is an array");
    expect_fail("meta_number", "{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ 'k' is a number");
    expect_fail("meta_null", "{\"__metadata__\":{\"k\":null}}", 0, "__metadata__ 'k' is null");
    expect_fail("meta_dup_key", "{\"__metadata__\":{\"k\":\"1\",\"j\":\"2\",\"k\":\"3\"}}", 0,
                "duplicate __metadata__ key 'k'");
    expect_fail("meta_twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate '__metadata__'");

    /* Truncation of a valid file: the size field then covers more than the file. */
    {
        float v[4] = {1, 2, 3, 4};
        tmp_path(path, sizeof path, "truncated");
        write_raw(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", v, 16);
        ct_st_file *f = open_ok(path); /* the whole file is fine */
        ct_st_close(f);
        CHECK(truncate(path, 8 + 20) == 0);
        expect_fail_file("truncated_header", path, "larger than");
        struct stat st;
        stat(path, &st);
        write_raw(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", v, 16);
        stat(path, &st);
        CHECK(truncate(path, st.st_size - 1) == 0);
        expect_fail_file("truncated_data", path, "exceed the data size 15");
    }
    /* Not a file. */
    expect_fail_file("missing", "/nonexistent/ctcir/x.safetensors", "cannot open");
    expect_fail_file("directory", tmpdir, "not a regular file");
    {
        ct_st_file *f;
        CHECK(ct_st_open(&f, "/nonexistent/x") == CT_ERR_IO);
        tmp_path(path, sizeof path, "empty");
        CHECK(ct_st_open(&f, path) == CT_ERR_FORMAT);
    }
}

/* Files the reader must accept: any tensor order, 0-d and zero-size tensors, padding. */
static void test_valid_handmade(void) {
    char path[256];
    tmp_path(path, sizeof path, "valid1");
    /* b's data comes first although the header lists a first; z is empty. */
    unsigned char data[12];
    float a = 2.5f;
    int32_t b[2] = {-7, 9};
    memcpy(data, b, 8);
    memcpy(data + 8, &a, 4);
    write_raw(path,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
              "\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[12,12]},"
              "\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\\u00e9 \\\"q\\\"\"},"
              "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}        ",
              data, sizeof data);
    ct_st_file *f = open_ok(path);
    if (!f) return;
    CHECK(ct_st_count(f) == 3);
    CHECK(strcmp(ct_st_path(f), path) == 0);
    CHECK(strcmp(ct_st_at(f, 0)->name, "a") == 0 && strcmp(ct_st_at(f, 1)->name, "z") == 0 &&
          strcmp(ct_st_at(f, 2)->name, "b") == 0);
    CHECK(ct_st_at(f, 3) == NULL && ct_st_at(f, -1) == NULL);
    const ct_st_tensor *ta = ct_st_find(f, "a"), *tb = ct_st_find(f, "b"), *tz = ct_st_find(f, "z");
    CHECK(ta && tb && tz && !ct_st_find(f, "c") && !ct_st_find(f, "__metadata__"));
    if (!ta || !tb || !tz) return;
    CHECK(ta->ndim == 0 && ta->numel == 1 && ta->nbytes == 4 && ta->dtype == CT_DT_F32);
    CHECK(tz->ndim == 2 && tz->numel == 0 && tz->nbytes == 0 && tz->shape[1] == 3);
    float fa = 0;
    CHECK(ct_st_read_f32(f, ta, &fa) == CT_OK && fa == 2.5f);
    int64_t ib[2];
    CHECK(ct_st_read_i64(f, tb, ib) == CT_OK && ib[0] == -7 && ib[1] == 9);
    CHECK(ct_st_read_f32(f, tz, NULL) == CT_OK);
    ct_error_clear();
    CHECK(ct_st_read_f32(f, tb, &fa) == CT_ERR_FORMAT && strstr(ct_error(), path) && strstr(ct_error(), "I32"));
    CHECK(ct_st_read_i64(f, ta, ib) == CT_ERR_FORMAT && strstr(ct_error(), "'a'"));
    CHECK(ct_st_metadata_count(f) == 2);
    const char *k, *v;
    ct_st_metadata_at(f, 1, &k, &v);
    CHECK(strcmp(k, "note") == 0 && strcmp(v, "caf\xc3\xa9 \"q\"") == 0);
    CHECK(ct_st_metadata(f, "format") && strcmp(ct_st_metadata(f, "format"), "pt") == 0);
    CHECK(ct_st_metadata(f, "nope") == NULL);
    ct_st_close(f);
    ct_st_close(NULL);

    /* No tensors at all, and a header with newlines. */
    tmp_path(path, sizeof path, "valid_empty");
    write_raw(path, "{\n}\n", NULL, 0);
    f = open_ok(path);
    CHECK(f && ct_st_count(f) == 0 && ct_st_metadata_count(f) == 0);
    ct_st_close(f);

    /* The same bytes through ct_st_open_memory. */
    char *buf;
    size_t n;
    tmp_path(path, sizeof path, "valid1");
    CHECK(ct_read_file(path, &buf, &n, 1 << 20) == CT_OK);
    CHECK(ct_st_open_memory(&f, buf, n, "mem") == CT_OK && ct_st_count(f) == 3);
    ct_st_close(f);
    CHECK(ct_st_open_memory(&f, buf, n - 1, "mem") == CT_ERR_FORMAT && strstr(ct_error(), "mem:"));
    free(buf);
}

/* Reference half -> float from the definition, in double. */
static double f16_reference(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31)
        v = m ? NAN : INFINITY;
    else if (e == 0)
        v = ldexp((double)m, -24);
    else
        v = ldexp(1.0 + m / 1024.0, e - 15);
    return s ? -v : v;
}

static void test_conversions(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float got = ct_f16_to_f32((uint16_t)h);
        double want = f16_reference((uint16_t)h);
        if (isnan(want)) {
            uint32_t bits;
            memcpy(&bits, &got, 4);
            /* NaN stays NaN with its sign and payload */
            if (!isnan(got) || (bits >> 31) != (h >> 15) || ((bits >> 13) & 1023) != (h & 1023)) bad++;
        } else if ((double)got != want || !signbit(got) != !signbit(want)) {
            bad++;
        }
    }
    CHECK_MSG(bad == 0, "%d half values converted wrongly", bad);
    CHECK(ct_f16_to_f32(0x3c00) == 1.0f);
    CHECK(ct_f16_to_f32(0x0001) == 5.9604644775390625e-08f); /* smallest subnormal 2^-24 */
    CHECK(ct_f16_to_f32(0x03ff) == 6.097555160522461e-05f);  /* largest subnormal */
    CHECK(ct_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(ct_f16_to_f32(0xfc00) == -INFINITY);
    CHECK(signbit(ct_f16_to_f32(0x8000)) && ct_f16_to_f32(0x8000) == 0.0f);
    CHECK(ct_bf16_to_f32(0x3f80) == 1.0f && ct_bf16_to_f32(0xc040) == -3.0f);
    CHECK(ct_bf16_to_f32(0x0001) == 9.183549615799121e-41f); /* bf16 subnormal */
    CHECK(isnan(ct_bf16_to_f32(0x7fc0)) && ct_bf16_to_f32(0xff80) == -INFINITY);
}

/* Every dtype through the writer and back, plus writer properties. */
static void test_writer_roundtrip(void) {
    char path[256];
    tmp_path(path, sizeof path, "all_dtypes.safetensors");
    double f64[3] = {1.0 / 3.0, -1e30, 1e-40};
    float f32[2][2] = {{1, -2}, {INFINITY, 0.125f}};
    uint16_t f16[4] = {0x3c00, 0x0001, 0x7c00, 0xc000};
    uint16_t bf16[2] = {0x3f80, 0xbf00};
    int64_t i64[2] = {INT64_MIN, INT64_MAX};
    int32_t i32[2] = {INT32_MIN, 5};
    int16_t i16[1] = {-300};
    int8_t i8[3] = {-128, 0, 127};
    uint64_t u64[2] = {(uint64_t)INT64_MAX, 7};
    uint32_t u32[1] = {4000000000u};
    uint16_t u16[1] = {65535};
    uint8_t u8[2][1][3] = {{{0, 128, 255}}, {{1, 2, 3}}};
    uint8_t bools[3] = {1, 0, 1};
    float scalar = 4.6052f;
    int64_t s1[1] = {3}, s2[2] = {2, 2}, s4[1] = {4}, s3[3] = {2, 1, 3}, s_empty[2] = {0, 5};
    ct_st_writer *w;
    CHECK(ct_st_writer_new(&w) == CT_OK);
    CHECK(ct_st_writer_add(w, "f64", CT_DT_F64, 1, s1, f64) == CT_OK);
    CHECK(ct_st_writer_add(w, "f32", CT_DT_F32, 2, s2, f32) == CT_OK);
    CHECK(ct_st_writer_add(w, "f16", CT_DT_F16, 1, s4, f16) == CT_OK);
    CHECK(ct_st_writer_add(w, "bf16", CT_DT_BF16, 1, (int64_t[]){2}, bf16) == CT_OK);
    CHECK(ct_st_writer_add(w, "i64", CT_DT_I64, 1, (int64_t[]){2}, i64) == CT_OK);
    CHECK(ct_st_writer_add(w, "i32", CT_DT_I32, 1, (int64_t[]){2}, i32) == CT_OK);
    CHECK(ct_st_writer_add(w, "i16", CT_DT_I16, 1, (int64_t[]){1}, i16) == CT_OK);
    CHECK(ct_st_writer_add(w, "i8", CT_DT_I8, 1, s1, i8) == CT_OK);
    CHECK(ct_st_writer_add(w, "u64", CT_DT_U64, 1, (int64_t[]){2}, u64) == CT_OK);
    CHECK(ct_st_writer_add(w, "u32", CT_DT_U32, 1, (int64_t[]){1}, u32) == CT_OK);
    CHECK(ct_st_writer_add(w, "u16", CT_DT_U16, 1, (int64_t[]){1}, u16) == CT_OK);
    CHECK(ct_st_writer_add(w, "u8", CT_DT_U8, 3, s3, u8) == CT_OK);
    CHECK(ct_st_writer_add(w, "bool", CT_DT_BOOL, 1, s1, bools) == CT_OK);
    CHECK(ct_st_writer_add(w, "empty", CT_DT_F32, 2, s_empty, NULL) == CT_OK);
    float tmp_copy = -1.5f;
    CHECK(ct_st_writer_add_copy(w, "copied", CT_DT_F32, 0, NULL, &tmp_copy) == CT_OK);
    tmp_copy = 99.0f; /* the writer kept its own copy */
    CHECK(ct_st_writer_add(w, "logit_scale", CT_DT_F32, 0, NULL, &scalar) == CT_OK);
    CHECK(ct_st_writer_add(w, "odd \"name\"\\\n\x01 caf\xc3\xa9", CT_DT_U8, 1, (int64_t[]){1}, u8) == CT_OK);
    CHECK(ct_st_writer_meta(w, "format", "pt") == CT_OK);
    CHECK(ct_st_writer_meta(w, "note", "first") == CT_OK);
    CHECK(ct_st_writer_meta(w, "note", "line1\nline2 \"quoted\"") == CT_OK);
    /* Invalid adds are refused and leave the writer usable. */
    CHECK(ct_st_writer_add(w, "neg", CT_DT_F32, 1, (int64_t[]){-1}, f32) == CT_ERR_ARG);
    CHECK(ct_st_writer_add(w, "__metadata__", CT_DT_F32, 1, s1, f32) == CT_ERR_ARG);
    CHECK(ct_st_writer_add(w, "", CT_DT_F32, 1, s1, f32) == CT_ERR_ARG);
    CHECK(ct_st_writer_add(w, "dims", CT_DT_F32, 9, (int64_t[9]){1, 1, 1, 1, 1, 1, 1, 1, 1}, f32) == CT_ERR_ARG);
    CHECK(ct_st_writer_add(w, "nulldata", CT_DT_F32, 1, s1, NULL) == CT_ERR_ARG);
    CHECK(ct_st_writer_add(w, "baddtype", (ct_dtype)99, 1, s1, f32) == CT_ERR_ARG);
    CHECK(ct_st_writer_add(w, "huge", CT_DT_F64, 2, (int64_t[]){INT64_MAX, INT64_MAX}, f32) == CT_ERR_ARG);
    CHECK(ct_st_writer_save(w, path) == CT_OK);
    ct_st_writer_free(w);

    /* The header is padded so that data starts 8-byte aligned, and the temp file is gone. */
    char *buf;
    size_t n;
    CHECK(ct_read_file(path, &buf, &n, 1 << 20) == CT_OK);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (unsigned char)buf[i];
    CHECK((8 + hlen) % 8 == 0);
    CHECK(buf[8 + hlen - 1] == '}' || buf[8 + hlen - 1] == ' ');
    free(buf);
    DIR *dir = opendir(tmpdir);
    int temps = 0;
    for (struct dirent *d; dir && (d = readdir(dir));)
        if (strstr(d->d_name, ".tmp.")) temps++;
    if (dir) closedir(dir);
    CHECK(temps == 0);

    ct_st_file *f = open_ok(path);
    if (!f) return;
    static const char *order[] = {"f64", "f32", "f16", "bf16", "i64",  "i32",   "i16",    "i8",
                                  "u64", "u32", "u16", "u8",   "bool", "empty", "copied", "logit_scale"};
    CHECK(ct_st_count(f) == 17);
    for (int i = 0; i < 16; i++) CHECK_MSG(strcmp(ct_st_at(f, i)->name, order[i]) == 0, "order at %d", i);
    CHECK(strcmp(ct_st_at(f, 16)->name, "odd \"name\"\\\n\x01 caf\xc3\xa9") == 0);
    CHECK(strcmp(ct_st_metadata(f, "note"), "line1\nline2 \"quoted\"") == 0 && ct_st_metadata_count(f) == 2);

    float out[8];
    int64_t iout[8];
    const ct_st_tensor *t = ct_st_find(f, "f64");
    CHECK(t->dtype == CT_DT_F64 && ct_st_read_f32(f, t, out) == CT_OK);
    CHECK(out[0] == (float)(1.0 / 3.0) && out[1] == (float)-1e30 && out[2] == (float)1e-40);
    t = ct_st_find(f, "f32");
    CHECK(t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 2 && ct_st_read_f32(f, t, out) == CT_OK);
    CHECK(out[0] == 1 && out[1] == -2 && isinf(out[2]) && out[3] == 0.125f);
    t = ct_st_find(f, "f16");
    CHECK(ct_st_read_f32(f, t, out) == CT_OK && out[0] == 1.0f && out[1] == ldexpf(1, -24) && isinf(out[2]) &&
          out[3] == -2.0f);
    t = ct_st_find(f, "bf16");
    CHECK(ct_st_read_f32(f, t, out) == CT_OK && out[0] == 1.0f && out[1] == -0.5f);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "i64"), iout) == CT_OK && iout[0] == INT64_MIN && iout[1] == INT64_MAX);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "i32"), iout) == CT_OK && iout[0] == INT32_MIN && iout[1] == 5);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "i16"), iout) == CT_OK && iout[0] == -300);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "i8"), iout) == CT_OK && iout[0] == -128 && iout[2] == 127);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "u64"), iout) == CT_OK && iout[0] == INT64_MAX && iout[1] == 7);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "u32"), iout) == CT_OK && iout[0] == 4000000000LL);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "u16"), iout) == CT_OK && iout[0] == 65535);
    t = ct_st_find(f, "u8");
    CHECK(t->ndim == 3 && t->numel == 6 && ct_st_read_i64(f, t, iout) == CT_OK && iout[1] == 128 && iout[2] == 255 &&
          iout[5] == 3);
    CHECK(memcmp(t->data, u8, 6) == 0);
    CHECK(ct_st_read_i64(f, ct_st_find(f, "bool"), iout) == CT_OK && iout[0] == 1 && iout[1] == 0);
    t = ct_st_find(f, "empty");
    CHECK(t->numel == 0 && t->shape[0] == 0 && t->shape[1] == 5);
    t = ct_st_find(f, "copied");
    CHECK(ct_st_read_f32(f, t, out) == CT_OK && out[0] == -1.5f);
    t = ct_st_find(f, "logit_scale");
    CHECK(t->ndim == 0 && ct_st_read_f32(f, t, out) == CT_OK && out[0] == 4.6052f);
    ct_st_close(f);

    /* U64 values above INT64_MAX are refused by read_i64. */
    tmp_path(path, sizeof path, "u64big.safetensors");
    CHECK(ct_st_writer_new(&w) == CT_OK);
    uint64_t big = UINT64_MAX;
    CHECK(ct_st_writer_add(w, "u", CT_DT_U64, 1, (int64_t[]){1}, &big) == CT_OK);
    CHECK(ct_st_writer_save(w, path) == CT_OK);
    ct_st_writer_free(w);
    f = open_ok(path);
    CHECK(f && ct_st_read_i64(f, ct_st_at(f, 0), iout) == CT_ERR_FORMAT && strstr(ct_error(), "does not fit"));
    ct_st_close(f);

    /* Writer failures: duplicate names, a missing directory, a directory in the way. */
    CHECK(ct_st_writer_new(&w) == CT_OK);
    CHECK(ct_st_writer_add(w, "x", CT_DT_F32, 0, NULL, &scalar) == CT_OK);
    CHECK(ct_st_writer_add(w, "x", CT_DT_F32, 0, NULL, &scalar) == CT_OK);
    tmp_path(path, sizeof path, "dup.safetensors");
    CHECK(ct_st_writer_save(w, path) == CT_ERR_ARG && strstr(ct_error(), "'x'") && strstr(ct_error(), path));
    CHECK(access(path, F_OK) != 0);
    ct_st_writer_free(w);
    CHECK(ct_st_writer_new(&w) == CT_OK);
    CHECK(ct_st_writer_add(w, "x", CT_DT_F32, 0, NULL, &scalar) == CT_OK);
    CHECK(ct_st_writer_save(w, "/nonexistent/ctcir/out.safetensors") == CT_ERR_IO &&
          strstr(ct_error(), "/nonexistent/ctcir/out.safetensors"));
    tmp_path(path, sizeof path, "a_directory");
    mkdir(path, 0755);
    CHECK(ct_st_writer_save(w, path) == CT_ERR_IO && strstr(ct_error(), path));
    rmdir(path);
    ct_st_writer_free(w);
    dir = opendir(tmpdir);
    temps = 0;
    for (struct dirent *d; dir && (d = readdir(dir));)
        if (strstr(d->d_name, ".tmp.")) temps++;
    if (dir) closedir(dir);
    CHECK_MSG(temps == 0, "%d temporary files left after failed saves", temps);
}

static void test_fileio(void) {
    char path[256];
    tmp_path(path, sizeof path, "fileio.txt");
    CHECK(ct_write_file_atomic(path, "hello\0world", 11) == CT_OK);
    CHECK(ct_write_file_atomic(path, "hello", 5) == CT_OK); /* replaces */
    char *d;
    size_t n;
    CHECK(ct_read_file(path, &d, &n, 100) == CT_OK && n == 5 && memcmp(d, "hello", 6) == 0);
    free(d);
    CHECK(ct_read_file(path, &d, &n, 4) == CT_ERR_NOMEM && strstr(ct_error(), path) && d == NULL);
    CHECK(ct_read_file("/nonexistent/f", &d, &n, 4) == CT_ERR_IO && strstr(ct_error(), "/nonexistent/f"));
    CHECK(ct_read_file(tmpdir, &d, &n, 4) == CT_ERR_IO);
    CHECK(ct_write_file_atomic("/nonexistent/dir/f", "x", 1) == CT_ERR_IO && strstr(ct_error(), "/nonexistent/dir/f"));
    tmp_path(path, sizeof path, "fileio_empty");
    CHECK(ct_write_file_atomic(path, NULL, 0) == CT_OK);
    CHECK(ct_read_file(path, &d, &n, 4) == CT_OK && n == 0 && d[0] == '\0');
    free(d);
}

/* The parity kit's files: structure checks, then a byte-exact round trip through the writer. */
static void roundtrip(const char *src) {
    ct_st_file *f = open_ok(src);
    if (!f) return;
    char path[256];
    tmp_path(path, sizeof path, "roundtrip.safetensors");
    ct_st_writer *w;
    CHECK(ct_st_writer_new(&w) == CT_OK);
    for (int i = 0; i < ct_st_metadata_count(f); i++) {
        const char *k, *v;
        ct_st_metadata_at(f, i, &k, &v);
        CHECK(ct_st_writer_meta(w, k, v) == CT_OK);
    }
    for (int i = 0; i < ct_st_count(f); i++) {
        const ct_st_tensor *t = ct_st_at(f, i);
        CHECK(ct_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data) == CT_OK);
    }
    CHECK_MSG(ct_st_writer_save(w, path) == CT_OK, "%s", ct_error());
    ct_st_writer_free(w);
    ct_st_file *g = open_ok(path);
    if (g) {
        CHECK(ct_st_count(g) == ct_st_count(f) && ct_st_metadata_count(g) == ct_st_metadata_count(f));
        int mismatches = 0;
        for (int i = 0; i < ct_st_count(f) && i < ct_st_count(g); i++) {
            const ct_st_tensor *a = ct_st_at(f, i), *b = ct_st_at(g, i);
            if (strcmp(a->name, b->name) || a->dtype != b->dtype || a->ndim != b->ndim || a->nbytes != b->nbytes ||
                memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) || memcmp(a->data, b->data, a->nbytes))
                mismatches++;
        }
        CHECK_MSG(mismatches == 0, "%s: %d tensors differ after the round trip", src, mismatches);
        for (int i = 0; i < ct_st_metadata_count(f); i++) {
            const char *k, *v;
            ct_st_metadata_at(f, i, &k, &v);
            const char *v2 = ct_st_metadata(g, k);
            CHECK_MSG(v2 && strcmp(v, v2) == 0, "%s: metadata '%s' differs", src, k);
        }
        ct_st_close(g);
    }
    ct_st_close(f);
    unlink(path);
}

static void test_parity_files(void) {
    static const char *models[] = {"tiny-vit-b", "tiny-gelu"};
    char path[512];
    for (int m = 0; m < 2; m++) {
        snprintf(path, sizeof path, "%s/parity/models/%s/model.safetensors", test_shared_dir(), models[m]);
        ct_st_file *f = open_ok(path);
        if (!f) continue;
        CHECK(ct_st_count(f) > 50);
        const ct_st_tensor *ls = ct_st_find(f, "logit_scale");
        CHECK_MSG(ls && ls->ndim == 0 && ls->dtype == CT_DT_F32 && ls->numel == 1, "%s: logit_scale", path);
        float v = 0;
        CHECK(ls && ct_st_read_f32(f, ls, &v) == CT_OK && fabsf(v - 4.6052f) < 1e-3f);
        const ct_st_tensor *tok = ct_st_find(f, "text_model.embeddings.token_embedding.weight");
        CHECK(tok && tok->ndim == 2 && tok->shape[0] == 49408 && tok->dtype == CT_DT_F32);
        int pos_ids = 0;
        for (int i = 0; i < ct_st_count(f); i++) {
            const ct_st_tensor *t = ct_st_at(f, i);
            if (strstr(t->name, ".position_ids")) {
                pos_ids++;
                CHECK_MSG(t->dtype == CT_DT_I64, "%s: %s is %s", path, t->name, ct_dtype_name(t->dtype));
                int64_t ids[128];
                if (t->numel <= 128 && ct_st_read_i64(f, t, ids) == CT_OK)
                    CHECK(ids[0] == 0 && ids[t->numel - 1] == (int64_t)t->numel - 1);
            }
        }
        CHECK(m == 0 ? pos_ids == 2 : pos_ids == 0); /* only tiny-vit-b carries them (README) */
        ct_st_close(f);
        roundtrip(path);

        snprintf(path, sizeof path, "%s/parity/models/%s/reference.safetensors", test_shared_dir(), models[m]);
        f = open_ok(path);
        if (f) {
            CHECK(ct_st_count(f) > 50 && ct_st_metadata(f, "texts") != NULL);
            const ct_st_tensor *ids = ct_st_find(f, "input.input_ids");
            CHECK(ids && ids->dtype == CT_DT_I64 && ids->ndim == 2 && ids->shape[1] == 77);
        }
        ct_st_close(f);
        roundtrip(path);
    }
    snprintf(path, sizeof path, "%s/parity/images/decoded_rgb.safetensors", test_shared_dir());
    ct_st_file *f = open_ok(path);
    if (f) {
        CHECK(ct_st_count(f) == 5);
        const ct_st_tensor *t = ct_st_find(f, "image.0.rgb");
        CHECK(t && t->dtype == CT_DT_U8 && t->ndim == 3 && t->shape[0] == 61 && t->shape[1] == 97 && t->shape[2] == 3);
        for (int i = 0; i < ct_st_count(f); i++) CHECK(ct_st_at(f, i)->dtype == CT_DT_U8);
    }
    ct_st_close(f);
    roundtrip(path);
}

static void cleanup(void) {
    DIR *dir = opendir(tmpdir);
    char path[512];
    for (struct dirent *d; dir && (d = readdir(dir));) {
        if (d->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, d->d_name);
        unlink(path);
    }
    if (dir) closedir(dir);
    rmdir(tmpdir);
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_hostile();
    test_valid_handmade();
    test_conversions();
    test_writer_roundtrip();
    test_fileio();
    test_parity_files();
    cleanup();
    return test_finish();
}
