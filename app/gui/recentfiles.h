#pragma once

#include <QStringList>

class QSettings;

namespace blockscope::gui {

// Most recently opened checkpoints, newest first, kept in QSettings under "recentFiles".
class RecentFiles
{
public:
    static constexpr int maxFiles = 10;

    explicit RecentFiles(QSettings &settings);

    QStringList files() const;
    void add(const QString &path);
    void remove(const QString &path);
    void clear();

    // The list after opening `path`: moved to the front, no duplicates, at most `max` entries.
    static QStringList pushed(QStringList list, const QString &path, int max = maxFiles);

private:
    QSettings &m_settings;
};

} // namespace blockscope::gui
