/* Training options (docs/model.md section 7) and where the data comes from: the public
 * ct_train_config of ctcir/train.h. A training config is one flat JSON object: those keys
 * plus, optionally, the model options of ctcir/options.h. `--set key=value` and the
 * command-line flags override both. */
#ifndef CTCIR_TRAIN_TRAIN_CONFIG_H
#define CTCIR_TRAIN_TRAIN_CONFIG_H

#include "core/blas.h"
#include "ctcir/train.h"
#include "model/options.h"
#include "train/optim.h"
#include "train/train_step.h"

#endif
