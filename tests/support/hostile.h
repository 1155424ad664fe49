#pragma once

#include <QByteArray>
#include <QString>

#include <functional>
#include <string>

namespace blockscope::test {

QByteArray readFile(const QString &path);
void writeFile(const QString &path, const QByteArray &bytes);

// Outcome of opening a damaged file: either it opened, or it failed with a typed error whose
// message is non-empty. Anything else (a crash, another exception type) fails the test.
enum class OpenOutcome { Opened, FormatError, UsageError };
OpenOutcome tryOpen(const std::string &path, std::string *message = nullptr);

// Truncates `bytes` at `cuts` offsets spread over the file (always including the first 64 and
// the header region) and flips `flips` random bytes (seeded), writing each variant to `path`
// and calling `check` after each write. Returns the number of variants tried.
int mutateAndCheck(const QByteArray &bytes, const QString &path, int cuts, int flips, unsigned seed,
    const std::function<void()> &check);

} // namespace blockscope::test
