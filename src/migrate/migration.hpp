#pragma once
// One migration's lifecycle commands, one file pair each; the CLI calls exactly one of these
// per command: check, run, status, validate, cutover, abort. This header gathers them for
// callers that drive a whole migration (the demo).
#include "migrate/abort.hpp"
#include "migrate/check.hpp"
#include "migrate/connections.hpp"
#include "migrate/cutover.hpp"
#include "migrate/run.hpp"
#include "migrate/status.hpp"
#include "migrate/validate.hpp"
