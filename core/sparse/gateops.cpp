#include "gateops.h"
