#include "gatetraining.h"
