#pragma once

// Qt meta-type declarations for the pruning engine's plain types that cross signals in views/
// (house style: registration lives here, never in core/).
#include "prune/unit.h"

#include <QMetaType>

Q_DECLARE_METATYPE(blockscope::UnitKind)
