/* The training loop: the public API of ctcir/train.h (ct_trainer_open / step / close). */
#ifndef CTCIR_TRAIN_TRAINER_H
#define CTCIR_TRAIN_TRAINER_H

#include "ctcir/train.h"
#include "train/train_config.h"

#endif
