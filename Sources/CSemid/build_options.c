// The one function of semid.h written in C: it only fills a plain C struct.
#include "semid.h"

#include <string.h>

void semid_build_options_init(semid_build_options *options) {
    if (options == NULL) return;
    memset(options, 0, sizeof *options);
    options->struct_size = (uint32_t)sizeof *options;
    options->levels = 3;
    options->codebook_size = 256;
    options->method = "rq-kmeans";
    options->collisions = "suffix";
    options->seed = 0;
    options->kmeans_iterations = 0;
    options->epochs = 0;
    options->overwrite = 0;
    options->progress = NULL;
    options->progress_context = NULL;
    options->codebook_sizes = NULL;
}
