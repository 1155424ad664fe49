#pragma once

// The small widgets the pages' forms and panels share, so that every table and path field looks
// and behaves the same.

#include <QString>

class QAbstractButton;
class QHBoxLayout;
class QLabel;
class QLayout;
class QLineEdit;
class QTableView;
class QToolButton;
class QWidget;

namespace blockscope::views {

// A read-only list table: whole-row selection, alternating rows, compact rows, no row numbers.
QTableView *makeTable(QWidget *parent);
// A bold caption above a table or chart.
QLabel *caption(const QString &text, QWidget *parent);
// The "..." button beside a path field.
QToolButton *browseButton(QWidget *parent, const QString &tip = {});
// A path field with its button at the right, for a form row.
QHBoxLayout *pathRow(QLineEdit *edit, QAbstractButton *browse);
// A path field of a file to read: its button opens a file dialog in the field's folder and puts
// the chosen file in the field.
QHBoxLayout *openFileRow(QLineEdit *edit, const QString &title, const QString &filter, const QString &tip = {});
// The layout of a page: its form column at the left, its results taking the rest of the width,
// and its message banner (none: null) above both.
void layOutPage(QWidget *page, QWidget *banner, QWidget *form, QWidget *results);
void layOutPage(QWidget *page, QWidget *banner, QWidget *form, QLayout *results);

} // namespace blockscope::views
