#include "recentfiles.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace blockscope::gui {

namespace {
const QString key = QStringLiteral("recentFiles");

// The same checkpoint reached through "./x", "x/" or a relative path is one entry.
QString normalised(const QString &path)
{
    return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
}
} // namespace

RecentFiles::RecentFiles(QSettings &settings)
    : m_settings(settings)
{
}

QStringList RecentFiles::files() const
{
    return m_settings.value(key).toStringList();
}

void RecentFiles::add(const QString &path)
{
    m_settings.setValue(key, pushed(files(), path));
}

void RecentFiles::remove(const QString &path)
{
    QStringList list = files();
    list.removeAll(normalised(path));
    m_settings.setValue(key, list);
}

void RecentFiles::clear()
{
    m_settings.remove(key);
}

QStringList RecentFiles::pushed(QStringList list, const QString &path, int max)
{
    const QString p = normalised(path);
    list.removeAll(p);
    list.prepend(p);
    while (list.size() > max)
        list.removeLast();
    return list;
}

} // namespace blockscope::gui
