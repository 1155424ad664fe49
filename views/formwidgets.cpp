#include "formwidgets.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace blockscope::views {

QTableView *makeTable(QWidget *parent)
{
    auto *t = new QTableView(parent);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setAlternatingRowColors(true);
    t->verticalHeader()->setVisible(false);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    t->horizontalHeader()->setHighlightSections(false);
    t->setWordWrap(false);
    return t;
}

QLabel *caption(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    QFont bold = label->font();
    bold.setBold(true);
    label->setFont(bold);
    return label;
}

QToolButton *browseButton(QWidget *parent, const QString &tip)
{
    auto *button = new QToolButton(parent);
    button->setText(QStringLiteral("\u2026"));
    button->setToolTip(tip);
    return button;
}

QHBoxLayout *pathRow(QLineEdit *edit, QAbstractButton *browse)
{
    auto *row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(edit, 1);
    row->addWidget(browse);
    return row;
}

QHBoxLayout *openFileRow(QLineEdit *edit, const QString &title, const QString &filter, const QString &tip)
{
    QToolButton *browse = browseButton(edit->parentWidget(), tip);
    QObject::connect(browse, &QToolButton::clicked, edit, [edit, title, filter] {
        const QString path
            = QFileDialog::getOpenFileName(edit->window(), title, QFileInfo(edit->text()).path(), filter);
        if (!path.isEmpty())
            edit->setText(path);
    });
    return pathRow(edit, browse);
}

namespace {
void layOut(QWidget *page, QWidget *banner, QWidget *form, QHBoxLayout *body)
{
    body->insertWidget(0, form);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(4, 4, 4, 4);
    if (banner)
        layout->addWidget(banner);
    layout->addLayout(body, 1);
}
} // namespace

void layOutPage(QWidget *page, QWidget *banner, QWidget *form, QWidget *results)
{
    auto *body = new QHBoxLayout;
    body->addWidget(results, 1);
    layOut(page, banner, form, body);
}

void layOutPage(QWidget *page, QWidget *banner, QWidget *form, QLayout *results)
{
    auto *body = new QHBoxLayout;
    body->addLayout(results, 1);
    layOut(page, banner, form, body);
}

} // namespace blockscope::views
