# The desktop application: a small static library with the main window and its wiring (so tests
# can link it), and the `blockscope` executable around it. Included from app/CMakeLists.txt when
# BLOCKSCOPE_BUILD_GUI is on.
add_library(blockscope_gui STATIC
  gui/commandline.cpp gui/commandline.h gui/defaultmodel.cpp gui/defaultmodel.h gui/logsetup.cpp gui/logsetup.h
  gui/mainwindow.cpp gui/mainwindow.h gui/mainwindow_attention.cpp gui/mainwindow_open.cpp gui/mainwindow_ppa.cpp
  gui/mainwindow_pruning.cpp gui/recentfiles.cpp gui/recentfiles.h gui/screenshot.cpp gui/screenshot.h
  ${PROJECT_SOURCE_DIR}/resources/blockscope.qrc)
target_include_directories(blockscope_gui PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/gui)
target_compile_definitions(blockscope_gui PRIVATE BLOCKSCOPE_SOURCE_DEMO_MODEL="${PROJECT_SOURCE_DIR}/resources/demo-model"
  BLOCKSCOPE_SOURCE_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data")
target_link_libraries(blockscope_gui PUBLIC blockscope_views Qt6::Widgets Qt6::Svg)

add_executable(blockscope gui/main.cpp)
target_link_libraries(blockscope PRIVATE blockscope_gui)
target_compile_definitions(blockscope PRIVATE BLOCKSCOPE_VERSION="${PROJECT_VERSION}")
install(TARGETS blockscope RUNTIME DESTINATION bin)
