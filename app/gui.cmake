# GUI targets: see gui.cmake owner
