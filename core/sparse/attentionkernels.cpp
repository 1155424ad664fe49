#include "attentionkernels.h"
