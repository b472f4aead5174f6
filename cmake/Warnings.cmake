# Warnings for every target of the project; errors when MSSQL2RDS_WERROR is on (CI).
function(mssql2rds_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
                                           -Wformat=2 -Wimplicit-fallthrough
                                           -Wno-missing-field-initializers)  # designated initializers leave the rest defaulted, on purpose
  if(MSSQL2RDS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
