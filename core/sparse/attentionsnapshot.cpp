#include "attentionsnapshot.h"
