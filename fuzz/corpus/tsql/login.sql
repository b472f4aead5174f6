set textsize 2147483647
set quoted_identifier on
set arithabort off
set transaction isolation level read committed
set xact_abort off