# MSSQL2RDS_SANITIZE=ON builds everything with ASan + UBSan (CI runs the unit tests that way).
if(MSSQL2RDS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Fuzz builds instrument the whole project for coverage (the fuzz targets add the driver).
if(MSSQL2RDS_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
