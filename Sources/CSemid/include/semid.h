/*
 * semid.h: the C ABI of semid (semantic IDs for generative retrieval).
 *
 * The library is `libsemidc` (libsemidc.so on Linux, libsemidc.dylib on macOS), the SwiftPM
 * product `semidc` of this package (`swift build -c release --product semidc`); the executable
 * product is called `semid`, hence the `c`. It is a thin layer over the Swift library: opening an
 * index directory, its sizes and code matrices, item <-> ID lookups, batched allowed-next-code
 * queries for constrained decoding (as CSR arrays, or as a mask written into an LLM's scores),
 * encoding new embeddings with the index's frozen quantizer, building an index from
 * embeddings in memory, and a build in steps for data that lives elsewhere (a Spark job): the
 * training rows, codebook training on them, encoding with codebooks, an index from raw codes.
 *
 * Conventions
 * - Every function that can fail returns an `int` status: SEMID_OK (0) or a semid_status code.
 *   After a failure, semid_last_error() gives a one-line message (the file, the field or the
 *   argument, and what was expected) for the calling thread. Nothing aborts the process on bad
 *   input: null pointers, wrong sizes, closed handles and corrupted files all give a status.
 * - Matrices are row-major (C order) and dense: `[rows, cols]` means element (i, j) at i*cols + j,
 *   unless a row stride is given. Sizes are int64_t, codes int32_t, tokens int64_t.
 * - Out-parameters are written only on success; a function that fills a buffer of a given
 *   `capacity` also writes the size it needs (`*out_count`, `*out_length`) when it returns
 *   SEMID_ERROR_BUFFER_TOO_SMALL.
 * - Pointers returned by the library (codes, strings) belong to the index handle and stay valid
 *   until semid_index_close() on it; do not free them.
 * - Threads: all functions may be called concurrently, also on one index handle, except that no
 *   call may use a handle while (or after) it is being closed.
 * - Item ids are dense: item i is row i of the embeddings the index was built from.
 */
#ifndef SEMID_H
#define SEMID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this ABI; semid_abi_version() returns it for the library actually loaded. */
#define SEMID_ABI_VERSION 2

/* Status codes. */
typedef enum semid_status {
    SEMID_OK = 0,
    SEMID_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a size or shape that does not fit, a bad option */
    SEMID_ERROR_NOT_FOUND = 2,        /* the index (or an input file) does not exist, or is not a semid index */
    SEMID_ERROR_CORRUPT = 3,          /* a file of the index fails its checksum or is inconsistent */
    SEMID_ERROR_IO = 4,               /* reading or writing a file failed */
    SEMID_ERROR_UNSUPPORTED = 5,      /* the index cannot do this (e.g. encode with assigned IDs, a trie query on non-unique IDs, a newer format) */
    SEMID_ERROR_EXISTS = 6,           /* the output exists and overwriting was not requested */
    SEMID_ERROR_BUFFER_TOO_SMALL = 7, /* the output buffer is too small; *out_count says how many entries are needed */
    SEMID_ERROR_INTERNAL = 8          /* a bug in semid (please report the message) */
} semid_status;

/* An open index. Opaque; create with semid_index_open() or semid_build(), free with semid_index_close(). */
typedef struct semid_index semid_index;

/* ---- The library ----------------------------------------------------------------------------- */

/* SEMID_ABI_VERSION of the loaded library. */
int32_t semid_abi_version(void);

/* semid's version, e.g. "0.1.0" (static storage). */
const char *semid_version(void);

/* The BLAS library, its kernel and thread count, e.g. "OpenBLAS 0.3.21, core Zen, 2 threads". */
const char *semid_blas_info(void);

/* The message of the last failed call on this thread ("" if none). Valid until the next failing
 * call on this thread. */
const char *semid_last_error(void);

/* The name of a status code, e.g. "SEMID_ERROR_NOT_FOUND" (static storage; "unknown" for others). */
const char *semid_status_name(int status);

/* ---- Opening and closing ---------------------------------------------------------------------- */

/* Opens the index directory at `path` (UTF-8), verifying every shard's size and SHA-256 and the
 * decoding trie, and sets *out_index. NOT_FOUND when there is no index at `path`. */
int semid_index_open(const char *path, semid_index **out_index);

/* Closes an index and frees everything it returned. NULL is accepted (no-op). Closing a handle
 * that is not open (e.g. twice) returns SEMID_ERROR_INVALID_ARGUMENT. */
int semid_index_close(semid_index *index);

/* ---- Sizes ------------------------------------------------------------------------------------ */

/* Number of items n. */
int semid_index_num_items(const semid_index *index, int64_t *out_count);

/* Codes per semantic ID, L' (the quantizer's levels L, plus one with the suffix policy). */
int semid_index_id_length(const semid_index *index, int32_t *out_length);

/* Vocabulary size of each ID position: writes id_length values to out_sizes (capacity >= id_length). */
int semid_index_code_sizes(const semid_index *index, int32_t *out_sizes, int32_t capacity);

/* Quantizer levels L (columns of the raw codes). */
int semid_index_levels(const semid_index *index, int32_t *out_levels);

/* Dimension d of the vectors semid_index_encode() takes (0 for random / sequential IDs). */
int semid_index_dimension(const semid_index *index, int32_t *out_dimension);

/* ---- Arrays owned by the index (no copy; valid until semid_index_close) ------------------------- */

/* The final semantic IDs, int32 [num_items, id_length]. */
int semid_index_codes(const semid_index *index, const int32_t **out_codes);

/* The raw quantizer codes (before the collision policy), int32 [num_items, levels]. */
int semid_index_raw_codes(const semid_index *index, const int32_t **out_codes);

/* manifest.json of the index (UTF-8, NUL-terminated). */
int semid_index_manifest_json(const semid_index *index, const char **out_json);

/* Catalog columns for semid_index_catalog_strings(). */
#define SEMID_COLUMN_TITLE 0
#define SEMID_COLUMN_SOURCE_ID 1

/* One text column of the catalog for every item: item i's UTF-8 bytes are
 * out_data[out_offsets[i] .. out_offsets[i+1]) (not NUL-terminated), out_offsets has num_items + 1
 * entries, and out_present[i] is 0 where the catalog holds NULL. Read (and checksum-verified) from
 * catalog.sqlite on first use. */
int semid_index_catalog_strings(const semid_index *index, int32_t column, const char **out_data,
                                const int64_t **out_offsets, const uint8_t **out_present);

/* ---- Lookups and constrained decoding ----------------------------------------------------------- */
/* These need unique IDs (every policy but `none` guarantees them); otherwise UNSUPPORTED. */

/* The item of each of `rows` IDs, int32 [rows, length] with length == id_length, into
 * out_items[rows]; -1 where the codes are no item's ID (including codes out of range). */
int semid_index_item_of(const semid_index *index, const int32_t *ids, int64_t rows, int32_t length,
                        int64_t *out_items);

/* The allowed next codes of `rows` prefixes of `length` codes each (int32 [rows, length],
 * 0 <= length <= id_length; INVALID_ARGUMENT when longer), in CSR form: after prefix r the codes
 * out_codes[out_indptr[r] .. out_indptr[r+1]) are allowed, ascending. A prefix that is no item's
 * prefix, or a complete ID, allows nothing. out_indptr has rows + 1 entries; out_codes has room
 * for `capacity` codes: rows * code_sizes[length] always suffices. *out_count = total codes. */
int semid_index_allowed_next(const semid_index *index, const int32_t *prefixes, int64_t rows, int32_t length,
                             int64_t *out_indptr, int32_t *out_codes, int64_t capacity, int64_t *out_count);

/* Token layouts (for LLM vocabularies). The codes of ID position l are the contiguous tokens
 * position_bases[l] + c, c in 0 .. code_sizes[l]-1 (id_length bases). `end_token` (e.g. EOS) is the
 * only token allowed once the ID is complete, and after a prefix that is no item's prefix; pass -1
 * for none (then nothing is allowed there). `generated` holds the tokens generated so far (the
 * prompt excluded): row r's `length` tokens start at generated[r * row_stride]
 * (row_stride >= length). */

/* The allowed next tokens of `rows` generated prefixes, in CSR form (out_indptr[rows + 1],
 * out_tokens with room for `capacity`; rows * max(code_sizes) + rows always suffices). */
int semid_index_allowed_next_tokens(const semid_index *index, const int64_t *generated, int64_t rows,
                                    int64_t row_stride, int32_t length, const int64_t *position_bases,
                                    int64_t end_token, int64_t *out_indptr, int64_t *out_tokens,
                                    int64_t capacity, int64_t *out_count);

/* Masks an LLM's next-token scores: `scores` is float32 [rows, vocab_size] with rows
 * score_row_stride apart; the result goes to `out_scores`, laid out the same way, which is either
 * `scores` itself (in place) or a buffer that does not overlap it. Every entry of row r but the
 * allowed next tokens of generated prefix r becomes -INFINITY (a row that allows nothing becomes
 * all -INFINITY). Every token block and end_token must lie in 0 .. vocab_size-1. One write pass
 * over the scores, reading only the allowed entries; on all cores for large batches. */
int semid_index_mask_scores(const semid_index *index, const int64_t *generated, int64_t rows, int64_t row_stride,
                            int32_t length, const int64_t *position_bases, int64_t end_token, const float *scores,
                            float *out_scores, int64_t vocab_size, int64_t score_row_stride);

/* ---- Encoding --------------------------------------------------------------------------------- */

/* Raw quantizer codes of new vectors with the index's frozen quantizer: float32 [rows, dimension]
 * (dimension == semid_index_dimension; every value finite) into out_codes, int32 [rows, levels].
 * These are the codes before the collision policy, as in semid_index_raw_codes: encoding the
 * vectors an index was built from reproduces its raw codes. UNSUPPORTED for random / sequential
 * IDs and for indexes that quantize collaborative or hybrid vectors. */
int semid_index_encode(const semid_index *index, const float *embeddings, int64_t rows, int64_t dimension,
                       int32_t *out_codes);

/* ---- Token names ------------------------------------------------------------------------------ */

/* The token of `code` at ID `position` under `token_template` (NULL = "<{letter}_{code}>"), whose
 * placeholders are {code}, {letter} (a .. z, then p26, p27, ...) and {position} ({{ and }} are
 * literal braces). Writes at most `capacity` bytes including a NUL to `buffer`; *out_length is the
 * token's length in bytes without the NUL (BUFFER_TOO_SMALL when length + 1 > capacity). */
int semid_token_name(const char *token_template, int32_t position, int32_t code, char *buffer, int64_t capacity,
                     int64_t *out_length);

/* ---- Building --------------------------------------------------------------------------------- */

/* Progress of a long operation: `stage` (e.g. "k-means level 2"), `detail` (may be ""), `step` of
 * `total` (total 0 when unknown), `finished` 1 on the stage's last event. May be called from any
 * thread. */
typedef void (*semid_progress_fn)(const char *stage, const char *detail, int64_t step, int64_t total,
                                  int32_t finished, void *context);

/* Build settings. Call semid_build_options_init() first, then change fields. */
typedef struct semid_build_options {
    uint32_t struct_size;        /* sizeof(semid_build_options); set by semid_build_options_init */
    int32_t levels;              /* quantizer levels L (default 3) */
    int32_t codebook_size;       /* codes per level K (default 256, at most 65536); see codebook_sizes */
    const char *method;          /* "rq-kmeans" (default) or "rq-vae" */
    const char *collisions;      /* "suffix" (default), "sinkhorn" or "none" */
    uint64_t seed;               /* seed of every random choice (default 0) */
    int32_t kmeans_iterations;   /* full-space Lloyd iterations per level, 0 = default (10) */
    int32_t epochs;              /* RQ-VAE training epochs, 0 = default */
    int32_t overwrite;           /* nonzero: replace an existing index at out_path */
    semid_progress_fn progress;  /* NULL = no progress */
    void *progress_context;      /* passed to progress */
    const int32_t *codebook_sizes; /* NULL (default): codebook_size at every level; else `levels` sizes,
                                    * level 0 first (e.g. 1024, 256, 256), each 2 ... 65536 */
} semid_build_options;

/* Fills `options` with the defaults above. */
void semid_build_options_init(semid_build_options *options);

/* Builds an index from embeddings in memory, float32 [rows, dimension] (row i = item i), writes it
 * to out_path atomically (a staging directory renamed into place) and, when out_index is not NULL,
 * opens it. Item metadata, optional: `items_path` (a JSONL or LC-Rec *.item.json file with items
 * 0 .. rows-1), or arrays `source_ids` / `titles` of `rows` UTF-8 strings (entries may be NULL);
 * not both. The manifest records the embeddings' XXH64 under the name "<memory float32>".
 * Replacing an existing index takes its writer lock, as the `semid` commands do: while another
 * process writes out_path, the call waits (reporting stage "waiting for another writer" through
 * `progress`), so no write is lost (docs/safety.md). */
int semid_build(const float *embeddings, int64_t rows, int64_t dimension, const char *items_path,
                const char *const *source_ids, const char *const *titles, const semid_build_options *options,
                const char *out_path, semid_index **out_index);

/* ---- Building in steps (codebooks, encoding, an index from codes) ------------------------------ */
/* The steps of an RQ-KMeans build for embeddings that are not in one process's memory (a Spark
 * job keeps them on its executors): (1) semid_training_rows: which rows training reads;
 * (2) semid_train_codebooks on those rows only; (3) semid_encode_codebooks on every row, in any
 * batches on any machines (each row's codes depend on that row alone); (4) semid_build_from_codes
 * with every item's codes. With the same settings and seed the index has the IDs semid_build (and
 * `semid build`) gives on the same embeddings, byte for byte. ABI version 2. */

/* RQ-KMeans settings shared by the four steps. Call semid_codebook_options_init() first (it sets
 * the defaults of `semid build`), then change fields. */
typedef struct semid_codebook_options {
    uint32_t struct_size;              /* sizeof(semid_codebook_options); set by the init */
    int32_t levels;                    /* quantizer levels L, 1 ... 64 (default 3) */
    int32_t codebook_size;             /* codes per level K, 2 ... 65536 (default 256) */
    const int32_t *codebook_sizes;     /* NULL (every level has codebook_size codes), or `levels`
                                          sizes, one per level; codebooks are [sum K_l, d] */
    uint64_t seed;                     /* seed of every random choice (default 0) */
    int32_t kmeans_iterations;         /* full-space Lloyd iterations per level (default 10), >= 1 */
    double kmeans_tolerance;           /* stop when an iteration improves the MSE less (1e-5), >= 0 */
    int32_t max_points_per_centroid;   /* train each level on at most this many rows per code (512; 0 = all) */
    const char *kmeans_init;           /* "kmeans++" (default) or "random" */
    const int32_t *warmup_dimensions;  /* NULL = automatic, else warmup_dimension_count increasing values */
    int32_t warmup_dimension_count;    /* with warmup_dimensions: how many (0 = no warm-up) */
    int32_t warmup_iterations;         /* Lloyd iterations per warm-up subspace (default 10), >= 0 */
    double warmup_tolerance;           /* (default 1e-5), >= 0 */
    int32_t kmeans_restarts;           /* independent fits per level, the best kept (default 1), >= 1 */
    int32_t kmeans_refinement;         /* Hartigan passes after Lloyd (default 2), >= 0 */
    const char *collisions;            /* semid_build_from_codes: "suffix" (default) or "none" */
    int64_t rows_per_shard;            /* semid_build_from_codes: rows per shard (default 262144) */
    int32_t overwrite;                 /* semid_build_from_codes: nonzero replaces an existing index */
    semid_progress_fn progress;        /* NULL = no progress */
    void *progress_context;            /* passed to progress */
} semid_codebook_options;

/* What training did at one level (recorded in the index manifest). */
typedef struct semid_level_report {
    int64_t iterations;                /* full-space k-means iterations run */
    int64_t training_points;           /* residual rows the level was trained on */
    int64_t reseeded_clusters;         /* empty clusters re-seeded */
    double residual_mean_squared_norm; /* mean squared residual after the level, over the rows trained
                                          on (semid_build_from_codes replaces it by the mean over all
                                          items when given their level errors) */
} semid_level_report;

/* Fills `options` with the defaults (those of `semid build`). NULL is ignored. */
void semid_codebook_options_init(semid_codebook_options *options);

/* The rows (ascending, distinct, in 0 .. items-1) of an `items`-row input that training reads, over
 * all levels: a function of (items, the options' quantizer settings, seed) only. Writes
 * *out_count = their number and, when capacity >= it, the rows to out_rows (BUFFER_TOO_SMALL
 * otherwise; capacity 0 with out_rows NULL asks for the count). At most `items`. */
int semid_training_rows(int64_t items, const semid_codebook_options *options, int64_t *out_rows, int64_t capacity,
                        int64_t *out_count);

/* Trains the codebooks from the training rows alone: `sample` is float32 [sample_rows, dimension],
 * row i = input row rows[i], where rows (sample_rows values, ascending) contains every row
 * semid_training_rows gives for `items` and the same options (usually exactly those; checked).
 * Writes the codebooks, float32 [sum K_l, dimension] (level 0's K_0 rows first), to out_codebooks
 * (codebook_values = sum K_l * dimension floats), and, when out_report is not NULL, one
 * semid_level_report per level. The codebooks are those semid_build trains on all `items` rows,
 * bit for bit. */
int semid_train_codebooks(const float *sample, int64_t sample_rows, int64_t dimension, const int64_t *rows,
                          int64_t items, const semid_codebook_options *options, float *out_codebooks,
                          int64_t codebook_values, semid_level_report *out_report);

/* Encodes vectors, float32 [rows, dimension] (finite), with codebooks, float32 [sum K_l, dimension]
 * (levels and sizes from `options`): raw codes int32 [rows, levels] into out_codes, the same codes
 * as semid_build / semid_index_encode give (exact nearest centroids, independent of the batch).
 * Optional outputs (NULL = not wanted): out_errors float32 [rows], each row's squared
 * reconstruction error ||x - sum of its codewords||^2 (the index's reconstruction_errors);
 * out_level_errors float32 [rows, levels], the squared norm of the row's residual after each
 * level. */
int semid_encode_codebooks(const float *codebooks, int64_t dimension, const semid_codebook_options *options,
                           const float *vectors, int64_t rows, int32_t *out_codes, float *out_errors,
                           float *out_level_errors);

/* Writes an index from every item's raw codes, as semid_build would from the embeddings:
 * codebooks float32 [sum K_l, dimension]; raw_codes int32 [items, levels] (row i = item i);
 * item_errors float32 [items] (from semid_encode_codebooks); level_errors float32 [items, levels]
 * or NULL (then the manifest has no per-level residual figures); total_variance = mean over items
 * of ||x - mean||^2 (for the manifest's relative MSE); training_report: `levels` entries from
 * semid_train_codebooks, or NULL (no k-means report in the manifest). Collisions: "suffix" or
 * "none" (options.collisions); "sinkhorn" needs the vectors and gives INVALID_ARGUMENT. Item
 * metadata as in semid_build (items_path, or source_ids / titles, or none). The manifest records
 * the embeddings as `input_name` (e.g. the Parquet path's last component; NULL = "<codes>"), with
 * items rows, dimension columns, items * dimension * 4 bytes and xxh64 "" (the vectors never pass
 * through here). The write is atomic and takes the writer lock of an index it replaces, as
 * semid_build does; out_index (may be NULL) receives the opened index. */
int semid_build_from_codes(const float *codebooks, int64_t dimension, const int32_t *raw_codes, int64_t items,
                           const float *item_errors, const float *level_errors, double total_variance,
                           const semid_level_report *training_report, const char *items_path,
                           const char *const *source_ids, const char *const *titles, const char *input_name,
                           const semid_codebook_options *options, const char *out_path, semid_index **out_index);

#ifdef __cplusplus
}
#endif

#endif /* SEMID_H */
