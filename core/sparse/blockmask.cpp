#include "blockmask.h"
